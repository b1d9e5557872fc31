"""The worker app's settings: defaults, then WORKER_* variables, then the CLI's options."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV = "WORKER_"  # the environment prefix, named in messages
EXPERTISE = {"billing": 0, "account_security": 1, "complaints": 2}  # as escalation's default config
CERTIFICATIONS = {"privacy_compliance": 0, "legal": 1, "payments": 2}


class WorkerSettings(BaseSettings):
    """Where the worker's app keeps its wallet and index, and which chain, desk and oracle nodes it uses."""

    model_config = SettingsConfigDict(env_prefix=ENV, extra="forbid")

    home: Path = Path.home() / ".escalation-worker"  # keystore, job index, evidence written here
    rpc_url: str = "http://127.0.0.1:8545"  # the chain's JSON-RPC
    deployments_file: Path = Path("deployments.json")  # written by `ape run deploy system`
    network: str = "polygon:local"  # the deployment's key in that file
    desk_url: str = "http://127.0.0.1:8700"  # the agent's desk: relays acceptance and registration
    oracle_urls: list[str] = Field(default_factory=list)  # oracle nodes' evidence intake (JSON list)
    content_folder: Path | None = None  # a shared folder the desk's file:// sealed contexts live in
    evidence_folder: Path | None = None  # where bundles are written (file:// URIs); default home/evidence
    host: str = "127.0.0.1"  # the app listens on loopback only
    port: int = 8780  # 0 picks a free port
    lock_after_s: float = 900.0  # the wallet locks after this many seconds without a request
    poll_s: float = 1.0  # seconds between two looks at the chain and the desk
    kdf_n: int = 2**18  # scrypt cost of a new keystore (tests lower it: their keys are throwaway)
    signature_ttl_s: int = 3_600  # how long a relayed signature stays valid
    expertise: dict[str, int] = Field(default_factory=lambda: dict(EXPERTISE))  # name -> bit, per deployment
    certifications: dict[str, int] = Field(default_factory=lambda: dict(CERTIFICATIONS))  # name -> bit
    max_concurrent: int = 2  # jobs at once, offered on the profile form

    @property
    def evidence_dir(self) -> Path:
        """Where evidence bundles are written."""
        return self.evidence_folder or self.home / "evidence"
