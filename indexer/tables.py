"""The indexer's tables: every event it folded (the facts) and the read model folded from them.

Each read-model row is a function of its entity's facts alone, so a reorg deletes the facts of the
orphaned blocks and refolds the entities they touched. Token amounts are decimal text: uint96 and
uint256 do not fit a 64-bit integer column.
"""

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# One row per folded event (and per view read pinned to a block), in chain order.
facts = Table(
    "facts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("block", BigInteger, nullable=False, index=True),  # deleted above the common ancestor
    Column("position", Integer, nullable=False),  # order within the block
    Column("kind", String(16), nullable=False),  # worker, job, operator, arbitrator, dispute
    Column("key", String(66), nullable=False),  # address, job id or dispute id
    Column("name", String(32), nullable=False),  # the event's name, or "Snapshot" for a view read
    Column("args", Text, nullable=False),  # JSON of the event's arguments
    Index("facts_entity", "kind", "key"),
)

workers = Table(
    "workers",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("languages", BigInteger, nullable=False),  # bit i = language i
    Column("expertise", String(20), nullable=False),  # uint64 bits, decimal text
    Column("certifications", BigInteger, nullable=False),
    Column("max_concurrent", Integer, nullable=False),
    Column("active_jobs", Integer, nullable=False),
    Column("available", Boolean, nullable=False),
    Column("completed", BigInteger, nullable=False),
    Column("missed_deadlines", Integer, nullable=False),
    Column("disputes_lost", Integer, nullable=False),
    Column("encryption_key", String(66), nullable=False),  # X25519 public key, 0x hex
    Column("profile_uri", Text, nullable=False),
    Column("block", BigInteger, nullable=False),  # of the last fact folded in
)

# Every write of a worker's row (a fold, a refold after a reorg, a removal), in order: readers that
# cache the workers (the desk's matching pool) reload only the addresses written after the last
# `seq` they saw. AUTOINCREMENT so that SQLite never hands out a seq twice.
worker_changes = Table(
    "worker_changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("address", String(42), nullable=False),
    sqlite_autoincrement=True,
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(66), primary_key=True),
    Column("agent", String(42), nullable=False, index=True),
    Column("offered_to", String(42), nullable=False),
    Column("confirmer", String(42), nullable=False),
    Column("reward", String(40), nullable=False),
    Column("oracle_fee", String(40), nullable=False),
    Column("protocol_fee", String(40), nullable=False),
    Column("accept_by", BigInteger, nullable=False),
    Column("resolve_by", BigInteger, nullable=False),
    Column("challenge_window", BigInteger, nullable=False),
    Column("spec_hash", String(66), nullable=False),
    Column("language", Integer, nullable=False),
    Column("expertise", String(20), nullable=False),
    Column("certifications", BigInteger, nullable=False),
    Column("status", Integer, nullable=False, index=True),  # protocol_core.enums.JobStatus
    Column("worker", String(42)),
    Column("deadline", BigInteger, nullable=False),  # the current phase's deadline, as the escrow stores it
    Column("evidence_hash", String(66)),
    Column("evidence_uri", Text),
    Column("approved", Boolean),  # the oracle's verdict, once recorded
    Column("paid", String(40)),  # to the worker
    Column("refunded", String(40)),  # to the agent
    Column("refund_reason", Integer),  # protocol_core.enums.RefundReason
    Column("dispute_id", String(80)),
    Column("ruling", Integer),  # protocol_core.enums.RulingOption, once settled
    Column("posted_block", BigInteger, nullable=False),
    Column("block", BigInteger, nullable=False),
)

operators = Table(
    "operators",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("mask_index", Integer, nullable=False),  # 1-based bit in attestation masks
    Column("active", Boolean, nullable=False),
    Column("stake", String(40), nullable=False),
    Column("unstaking", String(40), nullable=False),
    Column("unstake_at", BigInteger, nullable=False),
    Column("block", BigInteger, nullable=False),
)

arbitrators = Table(
    "arbitrators",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("stake", String(80), nullable=False),  # drawable stake
    Column("locked", String(80), nullable=False),  # part of it locked by draws
    Column("unstaking", String(80), nullable=False),
    Column("unlock_at", BigInteger, nullable=False),
    Column("rewards", String(80), nullable=False),  # not yet withdrawn
    Column("queued_in", String(80), nullable=False),  # staked while draws were pending, not yet drawable
    Column("queued_out", String(80), nullable=False),  # unstake asked while draws were pending
    Column("block", BigInteger, nullable=False),
)

disputes = Table(
    "disputes",
    metadata,
    Column("dispute_id", String(80), primary_key=True),
    Column("round", Integer, nullable=False),  # the current round, 0 first
    Column("phase", Integer, nullable=False),  # protocol_core.enums.RoundPhase, as events last set it
    Column("commit_end", BigInteger, nullable=False),
    Column("reveal_end", BigInteger, nullable=False),
    Column("appeal_end", BigInteger, nullable=False),
    Column("ruling", Integer),
    Column("tied", Boolean),
    Column("block", BigInteger, nullable=False),
)

# One row per seat drawn: an arbitrator may hold several seats of one round.
seats = Table(
    "seats",
    metadata,
    Column("dispute_id", String(80), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("seat", Integer, primary_key=True),
    Column("arbitrator", String(42), nullable=False, index=True),
    Column("committed", Boolean, nullable=False),
    Column("choice", Integer),  # revealed vote
)
