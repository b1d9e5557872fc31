"""The node's memory: cursor, block hashes, job terms, evidence to verify, attestations and transactions.

SQLite by default, PostgreSQL by URL (SQLAlchemy Core). Every write that the node's guarantees rest
on is one database transaction; the unique keys are the last line of exactly-once.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite

metadata = MetaData()

# One row per chain position the node has acted on, and one per block that held an event: enough
# to find the common ancestor after a reorg without storing every header.
blocks = Table(
    "blocks",
    metadata,
    Column("number", BigInteger, primary_key=True),
    Column("hash", String(66), nullable=False),
)

cursor = Table(
    "cursor",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("number", BigInteger, nullable=False),  # last block whose logs are ingested
    Column("hash", String(66), nullable=False),
    Column("chain_id", BigInteger, nullable=False),
    Column("escrow", String(42), nullable=False),
    Column("operator", String(42), nullable=False),  # the key whose nonces `transactions` holds
)

# Terms are immutable and their hash is the job id, so they are kept forever once checked.
jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(66), primary_key=True),
    Column("terms", String, nullable=False),  # JobTerms as JSON
)

# The work items: one per (job, evidence hash), whichever block (or fork) it was seen in.
evidence = Table(
    "evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(66), nullable=False),
    Column("evidence_hash", String(66), nullable=False),
    Column("uri", String, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False),
    Column("state", String(16), nullable=False),  # see EvidenceState
    Column("approve", Boolean),
    Column("reason", BigInteger),
    Column("detail", String),
    Column("attempts", BigInteger, nullable=False, default=0),
    Column("retry_at", Float, nullable=False, default=0.0),  # unix seconds; transient failures wait
    Column("seen_at", Float, nullable=False),  # wall clock when first ingested
    UniqueConstraint("job_id", "evidence_hash", name="uq_evidence_job_hash"),
)

# Exactly once: one live attestation per (job, evidence hash). A reverted one is retried in place.
attestations = Table(
    "attestations",
    metadata,
    Column("job_id", String(66), nullable=False),
    Column("evidence_hash", String(66), nullable=False),
    Column("approve", Boolean, nullable=False),
    Column("reason", BigInteger, nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # sent, mined, confirmed, reverted
    UniqueConstraint("job_id", "evidence_hash", name="uq_attestation_job_hash"),
)

# One row per nonce of the node's key; the signed bytes are written before they are broadcast.
transactions = Table(
    "transactions",
    metadata,
    Column("nonce", BigInteger, primary_key=True),
    Column("job_id", String(66), nullable=False),
    Column("evidence_hash", String(66), nullable=False),
    Column("data", LargeBinary, nullable=False),  # calldata of the oracle's attest
    Column("gas", BigInteger, nullable=False),
    Column("raw", LargeBinary, nullable=False),  # the newest signed version
    Column("tx_hash", String(66), nullable=False),  # its hash
    Column("hashes", String, nullable=False),  # every hash ever signed for this nonce, comma-separated
    Column("max_fee", BigInteger, nullable=False),
    Column("priority_fee", BigInteger, nullable=False),
    Column("broadcast_block", BigInteger, nullable=False),  # head when (re)broadcast; bumps count from here
    Column("state", String(16), nullable=False),  # pending, mined, confirmed
    Column("mined_block", BigInteger),
    Column("mined_hash", String(66)),  # hash of the block that holds it, to notice it being dropped
    Column("succeeded", Boolean),
    Column("seen_at", Float, nullable=False),  # wall clock when the evidence was first seen
)


class EvidenceState:
    """Where one evidence submission is in the node's pipeline."""

    SEEN = "seen"  # ingested; waits for its confirmations
    VERIFYING = "verifying"  # handed to the verifiers
    ATTESTING = "attesting"  # decided; the attestation is signed and persisted
    DONE = "done"  # our attestation is on chain
    SKIPPED = "skipped"  # nothing to do (verdict reached, deadline passed, evidence replaced)
    ORPHANED = "orphaned"  # its block left the canonical chain


def connect(url: str) -> Engine:
    """The engine for `url`, with the schema created."""
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    pragmas = dbapi_connection.cursor()
    pragmas.execute("PRAGMA journal_mode=WAL")  # readers (tests, operators) never block the node
    pragmas.execute("PRAGMA synchronous=FULL")  # a signed transaction on disk survives power loss
    pragmas.execute("PRAGMA busy_timeout=5000")
    pragmas.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One atomic unit of work."""
    with engine.begin() as connection:
        yield connection


def upsert(db: Connection, table: Table, key: str, **values: Any) -> None:
    """Inserts `values`, or updates the row with the same `key`."""
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    changed = {name: value for name, value in values.items() if name != key}
    db.execute(statement.on_conflict_do_update(index_elements=[key], set_=changed))


def insert_ignore(db: Connection, table: Table, **values: Any) -> None:
    """Inserts `values` unless a row with the same unique key exists."""
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    db.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())
