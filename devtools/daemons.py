"""One launcher for every daemon as a real process: readiness by /readyz, SIGTERM with a kill fallback."""

import atexit
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

READY_TIMEOUT = 60.0  # seconds a daemon may take to load, check its deployment and catch up
STOP_TIMEOUT = 15.0  # seconds a daemon gets to finish after SIGTERM before it is killed
POLL = 0.05  # seconds between two readiness probes
LOG_TAIL = 20  # lines of a daemon's log shown when it fails


class DaemonFailure(AssertionError):
    """A daemon exited early or did not get ready in time; the message carries its log's tail."""


def program(name: str) -> str:
    """The console script `name` of this virtualenv, else the one on PATH."""
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else shutil.which(name) or name


def http_status(port: int, path: str) -> int | None:
    """The HTTP status of GET 127.0.0.1:`port``path`, or None while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=0.5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


class Daemon:
    """A daemon as a child process, with its log in a file and a health port it serves."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        port: int,
        workdir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name, self.argv, self.port, self.workdir = name, list(argv), port, workdir
        self.env = {**os.environ, **(env or {})}
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Daemon":
        """Starts the process without waiting; a backstop stops it when the interpreter exits."""
        atexit.register(self.stop)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def exit_code(self) -> int | None:
        """The exit code; None while it runs or before it was started."""
        return None if self.process is None else self.process.poll()

    def check(self) -> None:
        """Raises DaemonFailure with the log's tail when the process has exited."""
        if self.process is not None and self.exit_code() is not None:
            raise DaemonFailure(f"{self.name} exited with code {self.exit_code()}; {self.tail()}")

    def ready(self, path: str = "/readyz") -> bool:
        """True once `path` answers 200; raises DaemonFailure if the process exited."""
        self.check()
        return http_status(self.port, path) == 200

    def wait_ready(self, timeout: float = READY_TIMEOUT, path: str = "/readyz") -> None:
        """Waits until the daemon is ready (or, with path="/healthz", merely alive)."""
        deadline = time.monotonic() + timeout
        while not self.ready(path):
            if time.monotonic() > deadline:
                raise DaemonFailure(f"{self.name}: {path} not 200 after {timeout:.0f}s; {self.tail()}")
            time.sleep(POLL)  # the interval between probes, not a synchronisation guess

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, a wait, then SIGKILL if it is still running; returns the exit code."""
        atexit.unregister(self.stop)
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        """kill -9, as a crash would."""
        atexit.unregister(self.stop)
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        """The whole log."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = LOG_TAIL) -> str:
        """The last lines of the log, indented, with where the whole log is."""
        last = self.log().splitlines()[-lines:]
        body = "\n".join(f"    {line}" for line in last) or "    (empty log)"
        return f"last lines of {self.log_path}:\n{body}"
