"""Real redis-server and PostgreSQL processes on 127.0.0.1, on free ports in temporary folders."""

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from sqlalchemy import create_engine, text

from .chain import free_port

INSTALL_HINT = "install them with `apt-get install redis-server postgresql` (.ci/run does)"
START_TIMEOUT = 30.0  # seconds a server may take to answer; a deadline, never a wait
POLL = 0.05  # seconds between two readiness probes
WORKER_DEADLINE = 60.0  # seconds a taskiq worker may take to start or stop; a bound, never a wait
REPO = Path(__file__).resolve().parent.parent


class ServerUnavailable(RuntimeError):
    """A test server could not be started; the message says which and how to fix it."""


def _require(binary: str | None, name: str) -> str:
    if binary is None:
        raise ServerUnavailable(f"{name} is not installed: {INSTALL_HINT}")
    return binary


def _postgres_bin(tool: str) -> str:
    """The newest Debian PostgreSQL's `tool`, else one on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(p.split("/")[4]))
    return _require(found[-1] if found else shutil.which(tool), f"PostgreSQL ({tool})")


@contextmanager
def run_redis() -> Iterator[str]:
    """A redis-server without persistence; yields redis://127.0.0.1:PORT/0 once it answers PING."""
    binary = _require(shutil.which("redis-server"), "redis-server")
    with tempfile.TemporaryDirectory(prefix="redis-") as folder:
        port = free_port()
        log = Path(folder) / "redis.log"
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        argv += ["--dir", folder, "--logfile", str(log)]
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        try:
            _wait_for_redis(process, port, log)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=START_TIMEOUT)


def _wait_for_redis(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1.0)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise ServerUnavailable(f"redis-server on port {port} did not answer PING: {_tail(log)}")
            try:  # the pause between probes doubles as the check that the server is still alive
                code = process.wait(timeout=POLL)
            except subprocess.TimeoutExpired:
                continue
            raise ServerUnavailable(f"redis-server exited with {code}: {_tail(log)}")
    finally:
        client.close()


@contextmanager
def run_postgres(database: str = "oracle") -> Iterator[str]:
    """A throwaway PostgreSQL cluster with trust auth; yields a SQLAlchemy URL of `database`."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    as_postgres: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="postgres-"))  # not under pytest's root-only 0700 tmp
    try:
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to the postgres user
            as_postgres = ["runuser", "-u", "postgres", "--"]
            shutil.chown(folder, "postgres", "postgres")
        data, log, port = folder / "data", folder / "postgres.log", free_port()
        init = [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]
        _run("initdb", [*as_postgres, *init])
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        # -w makes pg_ctl itself poll until the server accepts connections (its own deadline: -t)
        start = [*as_postgres, pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60"]
        _run("pg_ctl start", [*start, "start"], log)
        try:
            _create_database(port, database)
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"
        finally:
            _run("pg_ctl stop", [*as_postgres, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], log)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def new_database(url: str) -> str:
    """A new, empty database on the server of `url` (a run_postgres URL); its URL."""
    base = url.rsplit("/", 1)[0]
    name = "t_" + os.urandom(6).hex()
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as db:
            db.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return f"{base}/{name}"


def _create_database(port: int, database: str) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as db:
            db.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        engine.dispose()


def _run(step: str, argv: list[str], log: Path | None = None) -> None:
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()
        detail = output[-1] if output else (_tail(log) if log else "no output")
        raise ServerUnavailable(f"PostgreSQL {step} failed: {detail}")


def _tail(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return lines[-1] if lines else "no log output"


class TaskiqWorkers:
    """`taskiq worker` processes (one child each) for a broker URL, stopped by SIGTERM."""

    def __init__(self, broker_url: str, count: int, log_dir: Path, **settings: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORACLE_NODE_")}
        env.update({f"ORACLE_NODE_{k.upper()}": v for k, v in settings.items()})
        env["ORACLE_NODE_BROKER_URL"] = broker_url
        argv = [sys.executable, "-m", "taskiq", "worker", "oracle_node.tasks:broker", "--workers", "1"]
        argv += ["--log-level", "WARNING", "--shutdown-timeout", "5"]
        self.broker_url, self.logs = broker_url, [log_dir / f"worker-{i}.log" for i in range(count)]
        self.processes = [
            subprocess.Popen(argv, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
            for log in self.logs
        ]

    def wait_listening(self) -> None:
        """Polls Redis until every worker's child blocks on the queue (BRPOP): then it takes work."""
        client = redis.Redis.from_url(self.broker_url)
        db = client.connection_pool.connection_kwargs.get("db", 0)
        deadline = time.monotonic() + WORKER_DEADLINE
        try:
            while True:
                clients = client.client_list()
                listening = [c for c in clients if c["cmd"] == "brpop" and int(c["db"]) == db]
                if len(listening) >= len(self.processes):
                    return
                for process, log in zip(self.processes, self.logs, strict=True):
                    assert process.poll() is None, f"worker exited: {log.read_text()[-2000:]}"
                waiting = f"{len(listening)} of {len(self.processes)} workers listen"
                assert time.monotonic() < deadline, f"{waiting} after {WORKER_DEADLINE:.0f}s"
                with contextlib.suppress(subprocess.TimeoutExpired):  # the pause between two probes
                    self.processes[0].wait(timeout=0.05)
        finally:
            client.close()

    def children(self) -> set[int]:
        """Pids of the processes that run tasks (taskiq forks one per `--workers`)."""
        pids: set[int] = set()
        for process in self.processes:
            for task in Path(f"/proc/{process.pid}/task").iterdir():
                pids |= {int(pid) for pid in (task / "children").read_text().split()}
        return pids

    def stop(self) -> None:
        """SIGTERM to each worker; a worker that outlives the deadline is killed."""
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=WORKER_DEADLINE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
