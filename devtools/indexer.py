"""The indexer as a real `indexer run` process, with its SQLite read model and its two ports; or its
passes on a thread of the caller's process, for tests that only need the read model filled."""

import threading
from pathlib import Path
from typing import Any

import httpx

from indexer.service import Indexer
from indexer.tables import metadata as indexer_tables
from indexer.wiring import contracts_of, cursor_for
from protocol_core.deployment import Addresses
from runtime.chain import Chain
from runtime.db import connect
from runtime.metrics import RuntimeMetrics

from .chain import free_port
from .daemons import Daemon, program


class IndexerProcess(Daemon):
    """One `indexer run` against `rpc`, its database in `workdir`; `get` asks its read API."""

    def __init__(
        self, workdir: Path, rpc: str, deployments: Path, poll: float = 0.05, **settings: Any
    ) -> None:
        self.database = workdir / "indexer.db"
        self.api_port = free_port()
        port = free_port()
        env = {
            "INDEXER_POLL_INTERVAL": str(poll),
            **{f"INDEXER_{k.upper()}": str(v) for k, v in settings.items()},
        }
        argv = [
            program("indexer"), "run", "--rpc-url", rpc, "--deployments-file", str(deployments),
            "--database-url", f"sqlite:///{self.database}", "--metrics-port", str(port),
            "--api-port", str(self.api_port),
        ]  # fmt: skip
        super().__init__("indexer", argv, port=port, workdir=workdir, env=env)

    def get(self, path: str) -> Any:
        """The JSON answer of GET `path` on the read API; None for a 404."""
        response = httpx.get(f"http://127.0.0.1:{self.api_port}{path}", timeout=10)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def block(self) -> int:
        """The last block in the read model (-1 before the first)."""
        found = self.get("/v1/status")["block"]
        return -1 if found is None else int(found)


class IndexerThread:
    """The indexer's passes (the cursor and read model `indexer run` uses) on a thread of this process,
    writing the SQLite read model a desk's `indexer_database_url` reads: no process, no ports."""

    def __init__(self, workdir: Path, rpc: str, addresses: Addresses, poll: float = 0.1) -> None:
        self.database = workdir / "indexer.db"
        self.url = f"sqlite:///{self.database}"
        chain = Chain.over_http(rpc)
        metrics = RuntimeMetrics(f"indexer_thread_{id(self)}")
        cursor = cursor_for(chain, connect(self.url, indexer_tables), metrics, addresses, 0, 2_000)
        self._service = Indexer(chain, cursor, metrics, None, contracts_of(addresses))
        self._poll, self._stop = poll, threading.Event()
        self._thread = threading.Thread(target=self._run, name="indexer-thread", daemon=True)
        self.error = ""  # the last pass's failure, for a test that waits in vain

    def start(self) -> "IndexerThread":
        """Binds the read model to the chain (a wrong deployment fails here) and starts the passes."""
        self._service.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._service.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self._service.run_once().busy
                self.error = ""
            except Exception as error:  # an RPC hiccup: the next pass redoes it from the database
                busy, self.error = False, f"{type(error).__name__}: {error}"
            if not busy:
                self._stop.wait(self._poll)
