"""The oracle network as real `oracle-node run` processes: one node, a group, and their databases."""

import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eth_account import Account

from .accounts import PASSPHRASE, write_keystore
from .chain import free_port
from .daemons import Daemon, program


class OracleNode(Daemon):
    """One `oracle-node run` with its own ape data folder, SQLite database (or a URL) and metrics port.

    `network` is the ape network choice the node reads its deployment and confirmation depth for
    (polygon:amoy-fork:foundry for a fork of Amoy); the RPC is always `rpc`.
    """

    def __init__(
        self,
        workdir: Path,
        rpc: str,
        deployments: Path,
        alias: str,
        database_url: str = "",
        evidence: Path | None = None,
        poll: float = 0.05,
        network: str = "polygon:local:foundry",
        **settings: Any,
    ) -> None:
        self.alias = alias
        self.intake_url = ""  # http://127.0.0.1:<intake_port> when the node takes evidence by HTTP
        self.database = workdir / f"{alias}.db"
        self.database_url = database_url or f"sqlite:///{self.database}"
        # the node refuses a missing file_root
        (evidence or workdir / "evidence").mkdir(parents=True, exist_ok=True)
        env = {
            "APE_DATA_FOLDER": str(workdir / "ape"),
            "ORACLE_NODE_PASSPHRASE": PASSPHRASE,
            "ORACLE_NODE_FILE_ROOT": str(evidence or workdir / "evidence"),
            "ORACLE_NODE_POLL_INTERVAL": str(poll),
            "ORACLE_NODE_FETCH_BACKOFF": str(poll),
            **{f"ORACLE_NODE_{name.upper()}": str(value) for name, value in settings.items()},
        }
        port = free_port()
        argv = [
            program("oracle-node"), "run", "--network", network, "--account", alias,
            "--rpc-url", rpc, "--deployments-file", str(deployments),
            "--database-url", self.database_url, "--metrics-port", str(port),
        ]  # fmt: skip
        super().__init__(alias, argv, port=port, workdir=workdir, env=env)

    @property
    def metrics_port(self) -> int:
        """The port of /healthz, /readyz and /metrics."""
        return self.port

    def start(self, wait: str | None = "/healthz") -> "OracleNode":
        """Starts the node; by default waits until it is alive (`wait="/readyz"`: caught up)."""
        super().start()
        if wait:
            self.wait_ready(path=wait)
        return self

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Reads the node's SQLite database (WAL mode: never blocks the node)."""
        if not self.database.exists():
            return []
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5) as db:
            try:
                return db.execute(sql, params).fetchall()
            except sqlite3.OperationalError:  # tables not created yet
                return []

    def scalar(self, sql: str, *params: Any, default: Any = 0) -> Any:
        """The first value of the first row, or `default` when there is none (yet)."""
        rows = self.query(sql, *params)
        return rows[0][0] if rows else default

    def readyz(self) -> tuple[int, str]:
        """The status and body of /readyz."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=5) as answer:
                return int(answer.status), answer.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()

    def metric(self, name: str) -> float:
        """The sum of every sample of `oracle_node_<name>` on /metrics (all label values), 0 when none."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        full = f"oracle_node_{name}"
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.split("{", 1)[0].split(" ", 1)[0] == full
        )

    def cursor(self) -> int:
        """The last block the node has processed; -1 before the first pass."""
        return int(self.scalar("SELECT number FROM cursor", default=-1))


class OracleNodes:
    """A node per operator (alias -> private key) against one RPC; `with` starts and always stops them.

    `relayed`: each node also takes evidence by HTTP on a port of its own (`intake_url`) and finds its
    peers from the endpoints the operators publish on chain (none are configured).
    """

    def __init__(
        self,
        workdir: Path,
        rpc: str,
        deployments: Path,
        evidence: Path,
        keys: Mapping[str, bytes | str],
        relayed: bool = False,
        **settings: Any,
    ) -> None:
        self.addresses: dict[str, str] = {}
        self.nodes = []
        for alias, key in keys.items():
            write_keystore(workdir / "ape", alias, key)
            self.addresses[str(Account.from_key(key).address)] = alias
            intake: dict[str, Any] = {"intake_port": free_port(), "peers": "[]"} if relayed else {}
            node = OracleNode(workdir, rpc, deployments, alias, evidence=evidence, **intake, **settings)
            node.intake_url = f"http://127.0.0.1:{intake['intake_port']}" if relayed else ""
            self.nodes.append(node)
        self.exit_codes: dict[str, int | None] = {}
        self._started = time.monotonic()

    def __enter__(self) -> "OracleNodes":
        self._started = time.monotonic()
        for node in self.nodes:
            node.start(wait=None)
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def name_of(self, address: str) -> str:
        """The alias of the node that signs as `address`."""
        return self.addresses.get(str(address), str(address)[:10])

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Waits until every node's /readyz answers 200; returns the seconds since they were started."""
        for node in self.nodes:
            node.wait_ready(timeout)
        return time.monotonic() - self._started

    def check(self) -> None:
        """Raises DaemonFailure with its log when any node has exited."""
        for node in self.nodes:
            node.check()

    def stop(self) -> None:
        """Stops every node (SIGTERM, then SIGKILL after the grace period)."""
        for node in self.nodes:
            if node.process is not None and node.exit_code() is None:
                node.process.terminate()
        for node in self.nodes:
            self.exit_codes[node.alias] = node.stop()
