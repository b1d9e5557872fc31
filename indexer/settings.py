"""The indexer's settings: defaults, then a TOML file, then INDEXER_* variables, then the command line."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from runtime.settings import LayeredSettings


class IndexerSettings(LayeredSettings):
    """Everything an operator of the indexer may set; it holds no key."""

    model_config = SettingsConfigDict(env_prefix="INDEXER_", extra="forbid")

    network: str = "polygon:local:foundry"  # the deployments file's key is derived from it
    rpc_url: str | None = None  # the chain's RPC; default: the URI ape has configured for the network
    deployments_file: Path = Path("deployments.json")  # written by `ape run deploy system`
    start_block: int = 0  # first block read on an empty database
    log_chunk: int = 2_000  # most blocks per eth_getLogs request
    poll_interval: float = 0.25  # seconds between passes when nothing happened
    database_url: str = "sqlite:///indexer.db"  # SQLAlchemy URL; postgresql+psycopg://... works too
    api_host: str = "127.0.0.1"  # the read API listens here
    api_port: int = 8470  # 0 picks a free port (logged at start)
    metrics_host: str = "127.0.0.1"  # /healthz, /readyz and /metrics listen here
    metrics_port: int = 9470  # 0 picks a free port (logged at start)
    log_level: str = "INFO"
