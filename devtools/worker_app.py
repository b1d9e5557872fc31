"""The worker's app as a real `worker serve` process (tests and the bench drive it with a browser)."""

import json
from pathlib import Path
from typing import Any

from .chain import free_port
from .daemons import Daemon, program

KDF_N = 2**14  # scrypt cost of the test wallets (throwaway keys)


class WorkerApp(Daemon):
    """One app with its own home (keystore, index), pointed at a chain, a desk and oracle nodes."""

    def __init__(
        self,
        workdir: Path,
        rpc: str,
        deployments: Path,
        desk_url: str,
        oracle_urls: list[str],
        content_folder: Path | None = None,
        evidence_folder: Path | None = None,
        **settings: Any,
    ) -> None:
        port = free_port()
        env = {
            "WORKER_HOME": str(workdir / "worker-home"),
            "WORKER_RPC_URL": rpc,
            "WORKER_DEPLOYMENTS_FILE": str(deployments),
            "WORKER_NETWORK": "polygon:local",
            "WORKER_DESK_URL": desk_url,
            "WORKER_ORACLE_URLS": json.dumps(oracle_urls),
            "WORKER_KDF_N": str(KDF_N),
            "WORKER_POLL_S": "0.2",
            **({"WORKER_CONTENT_FOLDER": str(content_folder)} if content_folder else {}),
            **({"WORKER_EVIDENCE_FOLDER": str(evidence_folder)} if evidence_folder else {}),
            **{f"WORKER_{name.upper()}": str(value) for name, value in settings.items()},
        }
        argv = [program("worker"), "serve", "--no-browser", "--port", str(port)]
        super().__init__("worker-app", argv, port=port, workdir=workdir, env=env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: str | None = "/healthz") -> "WorkerApp":
        """Starts the app and waits until it answers."""
        super().start()
        if wait:
            self.wait_ready(path=wait)
        return self
