"""The agent's desk as a real `escalation-desk run` process, and its CLI as a subprocess against it."""

import subprocess
from pathlib import Path
from typing import Any

from .accounts import PASSPHRASE, write_keystore
from .chain import free_port
from .daemons import Daemon, program

API_KEY = "desk-api-key"  # the test desk's API key
HELPDESK_SECRET = "desk-helpdesk-secret"  # the test desk's webhook secret


class DeskDaemon(Daemon):
    """One desk with its own ape data folder (the agent's keystore), database, blob folder and ports."""

    def __init__(
        self,
        workdir: Path,
        rpc: str,
        deployments: Path,
        agent_key: bytes | str,
        database_url: str = "",
        poll: float = 0.05,
        network: str = "polygon:local:foundry",
        **settings: Any,
    ) -> None:
        write_keystore(workdir / "ape", "desk-agent", agent_key)
        self.database_url = database_url or f"sqlite:///{workdir / 'desk.db'}"
        self.api_port = free_port()
        env = {
            "APE_DATA_FOLDER": str(workdir / "ape"),
            "ESCALATION_DESK_PASSPHRASE": PASSPHRASE,
            "ESCALATION_DESK_API_KEY": API_KEY,
            "ESCALATION_DESK_HELPDESK_SECRET": HELPDESK_SECRET,
            "ESCALATION_DESK_POLL_INTERVAL": str(poll),
            "ESCALATION_DESK_CONTENT_FOLDER": str(workdir / "blobs"),
            **{f"ESCALATION_DESK_{name.upper()}": str(value) for name, value in settings.items()},
        }
        port = free_port()
        argv = [
            program("escalation-desk"), "run", "--network", network, "--account", "desk-agent",
            "--rpc-url", rpc, "--deployments-file", str(deployments), "--database-url", self.database_url,
            "--api-port", str(self.api_port), "--metrics-port", str(port),
        ]  # fmt: skip
        super().__init__("desk", argv, port=port, workdir=workdir, env=env)

    @property
    def url(self) -> str:
        """The desk's HTTP API."""
        return f"http://127.0.0.1:{self.api_port}"

    def start(self, wait: str | None = "/readyz") -> "DeskDaemon":
        """Starts the desk; by default waits until it has caught up with the chain (and serves its API)."""
        super().start()
        if wait:
            self.wait_ready(path=wait)
        return self

    def cli(
        self, *args: str, api_key: str = API_KEY, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Runs `escalation-desk <args>` against this desk, as a person at the company would."""
        env = {**self.env, "ESCALATION_DESK_URL": self.url, "ESCALATION_DESK_API_KEY": api_key}
        return subprocess.run(
            [program("escalation-desk"), *args], env=env, cwd=self.workdir, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip


STORE_KEY = "desk-store-key"  # the test content store's write key


class ContentStore(Daemon):
    """The team's content store as a real `escalation-desk store` process on a free port."""

    def __init__(self, workdir: Path) -> None:
        port = free_port()
        argv = [program("escalation-desk"), "store", "--folder", str(workdir / "store"), "--port", str(port)]
        env = {"ESCALATION_DESK_CONTENT_API_KEY": STORE_KEY}
        super().__init__("store", argv, port=port, workdir=workdir, env=env)

    @property
    def url(self) -> str:
        """The store's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: str | None = "/healthz") -> "ContentStore":
        """Starts the store and waits until it answers."""
        super().start()
        if wait:
            self.wait_ready(path=wait)
        return self
