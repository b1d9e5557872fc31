"""The arbitrator's own tables: disputes followed, seats I was drawn to, my votes and keeper calls.

A vote's salt is written (with its choice) before any commit transaction exists; each transaction
row of the runtime is referred to by its nonce, claimed in the sender's database transaction.
"""

from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, MetaData, String, Table

schema = MetaData()

# Every dispute of the pool seen by the cursor: what the keeper needs to know what may be due.
disputes = Table(
    "arb_disputes",
    schema,
    Column("dispute_id", BigInteger, primary_key=True),
    Column("block_number", BigInteger, nullable=False),  # where the dispute was created (reorgs)
    Column("final", Boolean, nullable=False, default=False),  # its ruling reached the arbitrable
    Column("deferred", Boolean, nullable=False, default=False),  # payment waits for payPanels
)

# One row per round of a dispute that drew me: the deadlines from the Drawn log.
seats = Table(
    "arb_seats",
    schema,
    Column("dispute_id", BigInteger, primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("commit_end", BigInteger, nullable=False),  # unix seconds, inclusive
    Column("reveal_end", BigInteger, nullable=False),  # unix seconds, inclusive
    Column("block_number", BigInteger, nullable=False),  # the Drawn log's block (reorgs)
    Column("committed_block", BigInteger),  # my VoteCommitted log's block: a reorg above it unsees it
    Column("revealed_block", BigInteger),  # my VoteRevealed log's block
    Column("notified", Boolean, nullable=False, default=False),  # the notice was logged (and posted)
    Column("committed_seen", Boolean, nullable=False, default=False),  # my VoteCommitted is on chain
    Column("revealed_seen", Boolean, nullable=False, default=False),  # my VoteRevealed is on chain
    Column("closed", Boolean, nullable=False, default=False),  # a phase ended without my step: no more to do
)

# My vote per seat. The salt is durable before the commit is signed; the nonces tie each step to
# exactly one runtime transaction (bumps re-sign the same nonce, so a vote is never sent twice).
votes = Table(
    "arb_votes",
    schema,
    Column("dispute_id", BigInteger, primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("choice", Integer, nullable=False),  # 0 refuse to arbitrate, 1 pay the worker, 2 refund
    Column("salt", String(66), nullable=False),  # 0x + 64 hex, from os.urandom
    Column("given_at", Float, nullable=False),  # wall clock when the vote was handed over
    Column("commit_nonce", BigInteger),  # the runtime transaction that commits it
    Column("commit_state", String(16), nullable=False, default="waiting"),  # waiting, sent, done, failed
    Column("reveal_nonce", BigInteger),
    Column("reveal_state", String(16), nullable=False, default="waiting"),  # waiting, sent, done, failed
    Column("detail", String, nullable=False, default=""),  # why a step failed
)

# Keeper calls this daemon made: one live call per (dispute, action, round) at a time.
keeper_calls = Table(
    "arb_keeper_calls",
    schema,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dispute_id", BigInteger, nullable=False),
    Column("action", String(24), nullable=False),  # draw, recordSeed, tally, executeRuling, payPanels...
    Column("nonce", BigInteger, nullable=False, unique=True),
    Column("state", String(16), nullable=False, default="sent"),  # sent, done, failed
)

# Final rulings and whether they reached the arbitrable (for the keeper's deliverRuling). A table of
# its own so that databases made before it gain it (tables are created when missing, never altered).
deliveries = Table(
    "arb_deliveries",
    schema,
    Column("dispute_id", BigInteger, primary_key=True),
    Column("arbitrable", String(42), nullable=False),  # from the Ruling log
    Column("ruling", Integer, nullable=False),
    Column("block_number", BigInteger, nullable=False),  # the Ruling log's block (reorgs)
    Column("failed", Boolean, nullable=False, default=False),  # the last delivery attempt failed
    Column("outcome_block", BigInteger),  # the block of the last RulingDelivered/RulingDeliveryFailed
)

# Arbitrators whose stake changes wait in the pool's queue (for the keeper's applyQueuedStakes).
queued = Table(
    "arb_queued",
    schema,
    Column("arbitrator", String(42), primary_key=True),
    Column("block_number", BigInteger, nullable=False),
)
