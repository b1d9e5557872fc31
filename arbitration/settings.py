"""The arbitrator's settings: defaults, a TOML file, ARBITRATOR_* variables, then the command line."""

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from runtime.settings import LayeredSettings


class ArbitratorSettings(LayeredSettings):
    """Everything an arbitrator may set; secrets come from the environment only."""

    model_config = SettingsConfigDict(env_prefix="ARBITRATOR_", extra="forbid")

    # chain and identity
    network: str = "polygon:local:foundry"  # ape network choice, ecosystem:network:provider
    account: str = ""  # ape account alias whose keystore signs stakes, votes and keeper calls
    passphrase: SecretStr | None = None  # the keystore's passphrase (ARBITRATOR_PASSPHRASE)
    rpc_url: str | None = None  # default: the URI ape has configured for the network
    deployments_file: Path = Path("deployments.json")  # written by `ape run deploy system`
    confirmations: int | Literal["finalized"] | None = None  # None: the network's depth from ape-config
    start_block: int = 0  # first block scanned on an empty database
    poll_interval: float = 0.5  # seconds between passes when nothing happened
    log_chunk: int = 2_000  # most blocks per eth_getLogs request
    startup_timeout: float = 20.0  # seconds an RPC failing at start is retried before giving up
    # state: the CLI and the daemon share it (the CLI hands votes to the daemon through it)
    database_url: str = "sqlite:///arbitrator.db"  # SQLAlchemy URL; postgresql+psycopg://... works too
    votes_file: Path | None = None  # JSON lines {"dispute_id", "choice"} read each pass, as `vote` does
    # reading case files
    x25519_key_file: Path | None = None  # hex of the X25519 private key registered in the WorkerRegistry
    content_root: Path | None = None  # folder of a FolderStore holding case files (else pass --case)
    # notices
    webhook_url: str | None = None  # POSTed a JSON notice when drawn (optional)
    email_to: str | None = None  # e-mailed a notice when drawn (optional; needs an SMTP server below)
    email_from: str = "arbitrator@localhost"  # the notices' From address
    smtp_host: str = "127.0.0.1"  # the mail server that sends the notices
    smtp_port: int = 25
    smtp_starttls: bool = False  # upgrade the connection with STARTTLS before logging in
    smtp_username: str | None = None  # log in when set
    smtp_password: SecretStr | None = None  # from ARBITRATOR_SMTP_PASSWORD
    # keeper: draw, recordSeed, tally, executeRuling, payPanels, applyQueuedStakes when due and unpaid
    keeper: bool = False  # off by default: only my own votes are sent
    # sending
    gas_bump_blocks: int = 3  # blocks a transaction may wait before its fees are bumped
    gas_bump_seconds: float = 15.0  # and seconds (both must pass)
    gas_bump_percent: int = 20  # fee increase per bump (nodes need at least 10)
    max_fee_cap_gwei: float = 1_000.0  # fees are never bumped above this
    stuck_after_bumps: int = 10  # a nonce re-signed more often than this makes /readyz say stuck
    # operating
    metrics_host: str = "127.0.0.1"  # /healthz, /readyz and /metrics listen here
    metrics_port: int = 9465  # 0 picks a free port (logged at start)
    log_level: str = "INFO"
