"""The indexer as a real `indexer run` process, with its SQLite read model and its two ports."""

from pathlib import Path
from typing import Any

import httpx

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
