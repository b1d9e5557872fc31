"""The desk daemon's settings: defaults, then a TOML file, then ESCALATION_DESK_* variables, then options."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from escalation.redact import KINDS
from runtime.settings import LayeredSettings

ENV = "ESCALATION_DESK_"  # the environment prefix, named in messages


class DeskSettings(LayeredSettings):
    """Everything a company sets for its desk; secrets come from the environment only."""

    model_config = SettingsConfigDict(env_prefix=ENV, extra="forbid")

    # chain and keys
    network: str = "polygon:local:foundry"  # ape network choice, ecosystem:network:provider
    rpc_url: str | None = None  # the desk's RPC; default: the URI ape has configured for a local network
    deployments_file: Path = Path("deployments.json")  # written by `ape run deploy system`
    account: str = ""  # ape account alias of the agent key: it funds, posts and signs the sealed context
    passphrase: SecretStr | None = None  # the agent keystore's passphrase (ESCALATION_DESK_PASSPHRASE)
    confirmer_account: str = ""  # ape alias of the confirmer key; empty: the agent key confirms too
    confirmer_passphrase: SecretStr | None = None  # its passphrase (ESCALATION_DESK_CONFIRMER_PASSPHRASE)
    start_block: int = 0  # first block followed on an empty database
    log_chunk: int = 2_000  # most blocks per eth_getLogs request
    poll_interval: float = 1.0  # seconds between follow passes when nothing happened
    startup_timeout: float = 20.0  # seconds an RPC failing at start is retried before the desk gives up
    # state and content
    database_url: str = "sqlite:///escalation-desk.db"  # SQLAlchemy URL; postgresql+psycopg://... works too
    content_folder: Path = Path("desk-blobs")  # sealed contexts and case files, named by their keccak
    content_url: str | None = None  # the team's HTTP content store instead of the folder
    content_api_key: SecretStr | None = None  # its write key (ESCALATION_DESK_CONTENT_API_KEY)
    # doors
    api_host: str = "127.0.0.1"  # the HTTP API listens here
    api_port: int = 8700  # 0 picks a free port (logged at start)
    api_key: SecretStr | None = None  # the company's API key (ESCALATION_DESK_API_KEY); required
    helpdesk_secret: SecretStr | None = None  # HMAC secret of the helpdesk webhook; None: webhook refused
    callback_secret: SecretStr | None = None  # HMAC secret of callbacks to the agent; None: the API key
    # policy, in USDC base units (6 decimals)
    max_reward: int = 100_000_000  # largest reward one ticket may carry (100 USDC)
    daily_budget: int = 1_000_000_000  # most committed (reward + fees) per UTC day (1,000 USDC)
    approval_threshold: int = 50_000_000  # rewards above this wait for a person's approval (50 USDC)
    redact_kinds: list[str] = Field(default=list(KINDS))  # personal data removed before sealing
    use_permit: bool = True  # post with an EIP-2612 permit, else from a standing allowance
    permit_version: str = "1"  # the token's EIP-712 domain version (Circle's USDC on Polygon: "2")
    # the escalation decision (`POST /v1/decide`, the MCP tool `decide`)
    known_issues: Path | None = None  # JSONL with a `text` per known issue; None: the shipped ones
    engine_config: Path | None = None  # TOML over the engine's shipped defaults
    learning_log: Path | None = None  # JSONL the desk appends each verified resolution to; None: not kept
    learning_confirmations: int = Field(default=12, ge=0)  # blocks a job stays final before it is written
    # matching and offers (issue 12): off without the indexer's database
    indexer_database_url: str | None = None  # the indexer's read model, read only; None: no offers
    offer_timeout_s: float = 30.0  # an offer not accepted within this goes to the next best worker
    offer_min_score: float = 0.0  # offers go first to workers scoring at least this; then to the rest
    offer_hooks: dict[str, str] = Field(default_factory=dict)  # worker address -> its tool's offer webhook
    # relayed registrations and availability changes the desk pays for (a refusal is a 429 with Retry-After)
    relay_per_worker: int = 10  # most relayed calls of one worker per window
    relay_total: int = 500  # most relayed calls of all workers together per window
    relay_window_s: float = 3_600.0  # the sliding window, seconds
    # operating
    metrics_host: str = "127.0.0.1"  # /healthz, /readyz and /metrics listen here
    metrics_port: int = 9465  # 0 picks a free port
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
