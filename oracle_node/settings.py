"""The node's settings: defaults, then a TOML file, then ORACLE_NODE_* variables, then the command line."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from runtime.settings import LayeredSettings


class NodeSettings(LayeredSettings):
    """Everything an operator may set; secrets come from the environment only."""

    model_config = SettingsConfigDict(env_prefix="ORACLE_NODE_", extra="forbid")

    # chain and identity
    network: str = "polygon:local:foundry"  # ape network choice, ecosystem:network:provider
    account: str = ""  # ape account alias whose keystore signs the attestations
    passphrase: SecretStr | None = None  # the keystore's passphrase (ORACLE_NODE_PASSPHRASE)
    rpc_url: str | None = None  # the node's RPC; default: the URI ape has configured for the network
    deployments_file: Path = Path("deployments.json")  # written by `ape run deploy system`
    confirmations: int | Literal["finalized"] | None = None  # None: the network's depth from ape-config
    start_block: int = 0  # first block scanned on an empty database
    poll_interval: float = 0.25  # seconds between passes when nothing happened
    log_chunk: int = 2_000  # most blocks per eth_getLogs request
    startup_timeout: float = 20.0  # seconds an RPC failing at start is retried before the node gives up
    # state
    database_url: str = "sqlite:///oracle-node.db"  # SQLAlchemy URL; postgresql+psycopg://... works too
    # evidence
    evidence_max_bytes: int = 256 * 1024  # larger bundles are rejected as OVERSIZED
    evidence_timeout: float = 5.0  # seconds per fetch attempt, wall clock, headers and redirects included
    fetch_per_host: int = 2  # fetches in flight to one host; more wait in the queue, not in a thread
    fetch_attempts: int = 3  # attempts before a bundle counts as UNREACHABLE
    fetch_backoff: float = 0.5  # seconds before the second attempt, doubled after each
    file_root: Path | None = None  # file:// URIs are served only from inside this folder; None: refused
    ipfs_gateway: str = "http://127.0.0.1:8080/ipfs/"  # ipfs://<cid> is fetched as <gateway><cid>
    allow_private_hosts: bool = False  # fetch http(s) from loopback/private addresses (tests, demo)
    # optional helpdesk check
    helpdesk_url: str | None = None  # template with {ticket_ref}: https://desk.example/t/{ticket_ref}
    helpdesk_auth_header: str = "Authorization"  # header that carries the token
    helpdesk_token: SecretStr | None = None  # value of that header (ORACLE_NODE_HELPDESK_TOKEN)
    helpdesk_json_path: str = "status"  # dotted path to the ticket's status in the response
    helpdesk_solved: list[str] = Field(default=["solved", "closed"])  # statuses that count as solved
    # sending
    gas_bump_blocks: int = 3  # blocks a transaction may wait before its fees are bumped
    gas_bump_seconds: float = 15.0  # and seconds (both must pass): a busy chain's blocks come too fast
    stuck_after_bumps: int = 10  # a nonce re-signed more often than this makes /readyz say stuck
    second_signer_alarm: float = 600.0  # seconds /readyz says stuck after another signer used the key
    gas_bump_percent: int = 20  # fee increase per bump (nodes need at least 10)
    max_fee_cap_gwei: float = 1_000.0  # fees are never bumped above this
    # relayed flow: evidence by HTTP, signatures exchanged with the peers, one submitAndAttest per verdict
    intake_port: int | None = None  # port of POST /v1/evidence and /v1/signatures; None: no relayed flow
    intake_host: str = "127.0.0.1"  # where the intake listens (0.0.0.0 behind your TLS proxy)
    peers: list[str] = Field(default=[])  # the other operators' intake URLs; empty: those published on chain
    takeover_delay: float = 3.0  # seconds each operator ahead in a job's succession gets to send first
    fallback_delay: float = 10.0  # seconds without a quorum of signatures before attesting on chain
    peer_timeout: float = 2.0  # seconds per POST to a peer
    intake_per_worker: float = 20.0  # evidence requests a second per worker, sustained
    intake_burst_per_worker: int = 100  # requests one worker may send at once
    intake_per_job: float = 0.5  # evidence requests a second per job, sustained
    intake_burst_per_job: int = 5  # requests for one job at once
    relay_retention: float = 7 * 86_400.0  # seconds a settled item's rows are kept before they are pruned
    # operating
    metrics_host: str = "127.0.0.1"  # /healthz, /readyz and /metrics listen here
    metrics_port: int = 9464  # 0 picks a free port (logged at start)
    broker_url: str | None = None  # redis://host:port: verification runs on taskiq workers
    verify_concurrency: int = 8  # verifications in flight at once
    log_level: str = "INFO"
