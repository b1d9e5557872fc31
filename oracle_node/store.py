"""The node's own tables: job terms, evidence to verify (its work items) and its attestations.

They sit beside the runtime's cursor, blocks and transactions (runtime.tables) in one database;
an attestation refers to the transaction that carries it by nonce.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from runtime import db

from . import relay_store

metadata = MetaData()

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
    Column("nonce", BigInteger, nullable=False, index=True),  # its current attempt: transactions.nonce
    Column("state", String(16), nullable=False),  # sent, mined, confirmed, reverted
    UniqueConstraint("job_id", "evidence_hash", name="uq_attestation_job_hash"),
)


class EvidenceState:
    """Where one evidence submission is in the node's pipeline."""

    SEEN = "seen"  # ingested; waits for its confirmations
    VERIFYING = "verifying"  # handed to the verifiers
    DECIDED = "decided"  # verdict stored; its attestation waits for an RPC that is not behind
    ATTESTING = "attesting"  # decided; the attestation is signed and persisted
    DONE = "done"  # our attestation is on chain
    SKIPPED = "skipped"  # nothing to do (verdict reached, deadline passed, evidence replaced)
    ORPHANED = "orphaned"  # its block left the canonical chain


def connect(url: str) -> Engine:
    """The engine for `url`, with the runtime's tables and the node's (relay_store's too) created."""
    return db.connect(url, metadata, relay_store.metadata)
