"""The relayed flow's tables: evidence taken in by HTTP (or seen on chain), operators' signatures, our sends.

They sit beside the node's own tables (store.py) in the same database. Exactly once rests on their
unique keys: one item per (job, evidence hash), one signature per (job, evidence hash, signer,
verdict, set nonce), one send of each kind per (job, evidence hash) by this key. Settled items are
pruned with their signatures and sends once the node's retention has passed.
"""

import functools
from collections.abc import Iterable
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
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    delete,
    select,
    update,
)

from protocol_core.terms import JobTerms
from runtime.db import transaction

metadata = MetaData()

# One item per (job, evidence hash): what the worker handed in by HTTP, or what a peer told us of.
relay_items = Table(
    "relay_items",
    metadata,
    Column("job_id", String(66), nullable=False),
    Column("evidence_hash", String(66), nullable=False),
    Column("source", String(8), nullable=False),  # intake (the worker's signed evidence) or chain
    Column("terms", String, nullable=False),  # JobTerms as JSON; their hash is job_id
    Column("worker", String(42)),  # the signer of the evidence (intake only)
    Column("uri", String, nullable=False),
    Column("deadline", BigInteger),  # of the worker's evidence signature (intake only)
    Column("signature", String(132)),  # the worker's compact signature, 0x + r + yParity|s (intake only)
    Column("bundle", LargeBinary),  # the bundle's bytes when the worker sent them inline
    Column("state", String(12), nullable=False),  # see ItemState
    Column("approve", Boolean),
    Column("reason", BigInteger),
    Column("detail", String),
    Column("attempts", BigInteger, nullable=False, default=0),
    Column("retry_at", Float, nullable=False, default=0.0),  # unix seconds
    Column("received_at", Float, nullable=False),  # wall clock; leader turns and fallbacks count from here
    Column("pushed_at", Float, nullable=False, default=0.0),  # our signature last sent to the peers
    Column("quorum_at", Float),  # when this node first held a quorum of signatures; turns count from here
    PrimaryKeyConstraint("job_id", "evidence_hash", name="pk_relay_items"),
)

# Attestation signatures, ours and the peers', each checked before it was stored.
relay_signatures = Table(
    "relay_signatures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(66), nullable=False),
    Column("evidence_hash", String(66), nullable=False),
    Column("signer", String(42), nullable=False),
    Column("approve", Boolean, nullable=False),
    Column("reason", BigInteger, nullable=False),
    Column("set_nonce", BigInteger, nullable=False),
    Column("signature", String(132), nullable=False),  # 0x + r + yParity|s
    UniqueConstraint(
        "job_id", "evidence_hash", "signer", "approve", "reason", "set_nonce", name="uq_relay_signature"
    ),
)

# What this key sent for an item: submitAndAttest, attestWithSignatures or submitEvidenceFor.
relay_sends = Table(
    "relay_sends",
    metadata,
    Column("job_id", String(66), nullable=False),
    Column("evidence_hash", String(66), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("nonce", BigInteger, nullable=False, index=True),  # its current attempt: transactions.nonce
    Column("state", String(12), nullable=False),  # sent, mined, confirmed, reverted
    UniqueConstraint("job_id", "evidence_hash", "kind", name="uq_relay_send"),
)


class ItemState:
    """Where one relayed item is."""

    PENDING = "pending"  # to verify
    VERIFYING = "verifying"  # handed to the verifiers
    SIGNED = "signed"  # our signature is stored and sent; waiting for the quorum and our turn
    SENDING = "sending"  # our transaction carries it
    FALLBACK = "fallback"  # handed to the on-chain path (evidence on chain, attestations one by one)
    DONE = "done"  # a verdict is on chain
    DROPPED = "dropped"  # nothing to do: the job moved on without this evidence

    OPEN = (PENDING, VERIFYING, SIGNED, SENDING)

    SETTLED = (DONE, DROPPED, FALLBACK)  # nothing more for the relay to do; pruned after the retention


def by_key(statement: Any) -> Any:
    """`statement` on relay_items restricted to the row named by the parameters key_job and key_hash
    (so that one statement runs for a list of rows)."""
    return statement.where(relay_items.c.job_id == bindparam("key_job")).where(
        relay_items.c.evidence_hash == bindparam("key_hash")
    )


@functools.lru_cache(maxsize=4_096)  # read for every item at every step: parsed and checked once per job
def stored_terms(text: str) -> JobTerms:
    """The JobTerms of an item's `terms` column (immutable: shared between the callers)."""
    return JobTerms.model_validate_json(text)


def new_item(
    job_id: str, evidence_hash: str, source: str, received_at: float, **values: Any
) -> dict[str, Any]:
    """A relay_items row as it is first stored: pending, never tried; `values` the rest (terms, uri...)."""
    fresh = dict(state=ItemState.PENDING, attempts=0, retry_at=0.0, pushed_at=0.0)
    return dict(
        job_id=job_id, evidence_hash=evidence_hash, source=source, received_at=received_at, **fresh, **values
    )


def set_items(engine: Engine, moves: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Sets columns of items, each move a (job id, evidence hash, values), in one commit with no disk
    flush: item states are derived again from the chain, the peers' re-pushes and deterministic
    signatures if the machine loses power. One statement per set of columns, run for each row."""
    if moves:
        with transaction(engine, durable=False) as db:
            set_items_in(db, moves)


def set_items_in(db: Connection, moves: list[tuple[str, str, dict[str, Any]]]) -> None:
    """`set_items` inside a database transaction the caller holds (with its other changes)."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for job_id, evidence_hash, values in moves:
        row = {"key_job": job_id, "key_hash": evidence_hash, **values}
        by_columns.setdefault(tuple(sorted(values)), []).append(row)
    for columns, rows in by_columns.items():
        db.execute(_update_of(columns), rows)


@functools.lru_cache(maxsize=64)
def _update_of(columns: tuple[str, ...]) -> Any:
    """The UPDATE of `columns` by key, built once per set of columns (SQLAlchemy then reuses its
    compiled form without building and hashing the statement again)."""
    return by_key(update(relay_items)).values({name: bindparam(name) for name in columns})


def of_jobs(job_ids: Iterable[str]) -> dict[str, list[str]]:
    """The parameters of a statement built once over `IN_JOBS` (the job ids it reads)."""
    return {"jobs": list(set(job_ids))}


def in_jobs(column: Any) -> Any:
    """`column IN (:jobs)`, its list bound at execution (`of_jobs`): a statement built once, not per call."""
    return column.in_(bindparam("jobs", expanding=True))


ITEM_KEYS = select(relay_items.c.job_id, relay_items.c.evidence_hash).where(in_jobs(relay_items.c.job_id))
SIGNATURES = (  # the stored signatures of some jobs under one set nonce
    select(relay_signatures)
    .where(in_jobs(relay_signatures.c.job_id))
    .where(relay_signatures.c.set_nonce == bindparam("nonce"))
)
HELD_BYTES = (
    select(relay_items.c.job_id, relay_items.c.evidence_hash, relay_items.c.bundle)
    .where(in_jobs(relay_items.c.job_id))
    .where(relay_items.c.bundle.is_not(None))
)


def held_bundles(engine: Engine, keys: set[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
    """The bytes held for each of `keys` (job id, evidence hash) whose worker handed them in (each was
    checked against its hash when it came), in one query; keys without bytes are left out."""
    if not keys:
        return {}
    with engine.connect() as db:
        rows = db.execute(HELD_BYTES, of_jobs(job_id for job_id, _ in keys)).all()
    return {(r.job_id, r.evidence_hash): r.bundle for r in rows if (r.job_id, r.evidence_hash) in keys}


LIVE_SENDS = ("sent", "mined")  # a transaction of ours still moving: its rows are kept until it settles


def prune(engine: Engine, received_before: float, limit: int = 512) -> int:
    """Deletes up to `limit` settled items received before `received_before` (unix seconds), with their
    signatures and sends, in one transaction; items with a send still in flight are kept. How many."""
    live = (
        select(relay_sends.c.job_id)
        .where(relay_sends.c.job_id == relay_items.c.job_id)
        .where(relay_sends.c.evidence_hash == relay_items.c.evidence_hash)
        .where(relay_sends.c.state.in_(LIVE_SENDS))
    )
    with transaction(engine) as db:
        keys = db.execute(
            select(relay_items.c.job_id, relay_items.c.evidence_hash)
            .where(relay_items.c.state.in_(ItemState.SETTLED))
            .where(relay_items.c.received_at < received_before)
            .where(~live.exists())
            .limit(limit)
        ).all()
        for table in (relay_signatures, relay_sends, relay_items):
            for job_id, evidence_hash in keys:
                db.execute(
                    delete(table)
                    .where(table.c.job_id == job_id)
                    .where(table.c.evidence_hash == evidence_hash)
                )
    return len(keys)
