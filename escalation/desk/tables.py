"""The desk's own tables, beside the runtime's cursor, blocks and transactions."""

from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData()

# One row per escalation, from the request to the job's end.
jobs = Table(
    "desk_jobs",
    metadata,
    Column("desk_id", String(40), primary_key=True),  # the desk's id, known before any terms
    Column("ticket_ref", String(128), nullable=False, index=True),
    Column("request", Text, nullable=False),  # the EscalationRequest as JSON (redacted context inside)
    Column("context", LargeBinary, nullable=False),  # the canonical, redacted context bundle
    Column("redactions", Text, nullable=False),  # JSON counts per kind
    Column("job_id", String(66), unique=True),  # set when the terms are built
    Column("terms", Text),  # JobTerms as JSON
    Column("total", BigInteger, nullable=False),  # reward + fees the post pulls (quoted)
    Column("day", String(10), nullable=False),  # UTC day the spend counts against
    Column("status", String(24), nullable=False),  # desk status (see requests.DeskStatus)
    Column("worker", String(42)),
    Column("deadline", BigInteger),  # the chain's deadline for the current status
    Column("dispute_id", BigInteger),
    Column("dirty", Boolean, nullable=False, default=False),  # an event arrived: re-read the chain
    Column("settle_nonce", BigInteger),  # the transaction that settles it, once sent
    Column("confirmation", Text),  # the confirmer's EIP-712 signature, JSON with its fields
    Column("evidence_hash", String(66)),  # the worker's EvidenceSubmitted, as the escrow logged it
    Column("evidence_uri", String(2000)),  # where that bundle is (the desk's store, when the worker used it)
    Column("callback_url", String(2000)),
    Column("created_at", Float, nullable=False),
)

# Every call the desk sent, by the sender's nonce, with what it was for.
calls = Table(
    "desk_calls",
    metadata,
    Column("nonce", BigInteger, primary_key=True),  # references transactions.nonce
    Column("desk_id", String(40), nullable=False, index=True),
    Column("action", String(24), nullable=False),  # post, cancel, settle, dispute, approve, withdraw...
    Column("succeeded", Boolean),  # None until mined
)

# Each sealed copy of a job's context (or a case file) handed to one reader.
seals = Table(
    "desk_seals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("desk_id", String(40), nullable=False, index=True),
    Column("reader", String(42), nullable=False),
    Column("role", String(16), nullable=False),  # worker, arbitrator
    Column("uri", String(2000), nullable=False),
    Column("blob", String(66), nullable=False),  # keccak of the envelope
    Column("statements", Integer),  # a case file: how many dispute statements it holds (None: a context)
)

# Dispute statements posted to the worker door, each stored sealed to the desk itself (so the store
# serves it to nobody else) and put in the case files; the chain names it by its URI only.
statements = Table(
    "desk_statements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("desk_id", String(40), nullable=False, index=True),
    Column("author", String(42), nullable=False),  # the job's worker or agent, as its signature proved
    Column("uri", String(2000), nullable=False),  # the sealed statement in the desk's content store
    Column("blob", String(66), nullable=False),  # keccak of the envelope (the URI's hash)
    Column("created_at", Float, nullable=False),
)

# Case files named in the dispute's evidence (protocol_core.case_index), so each arbitrator finds its own.
published = Table(
    "desk_published_cases",
    metadata,
    Column("seal_id", Integer, primary_key=True),  # desk_seals.id of an arbitrator's case file
    Column("nonce", BigInteger, nullable=False, index=True),  # the submitDisputeEvidence that names it
)

# What the agent is told: one row per status change, delivered to its callback URL.
notices = Table(
    "desk_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("desk_id", String(40), nullable=False, index=True),
    Column("status", String(24), nullable=False),
    Column("detail", Text),  # why, when the status needs it (no_eligible: the requirement nobody meets)
    Column("delivered", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
)

# Permit nonces handed out ahead of the chain (posts in flight each use the next one).
permits = Table(
    "desk_permits",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("next_nonce", BigInteger, nullable=False),
)

# What the matcher decided for a job: the state of its offers and, when nobody can take it, why.
matches = Table(
    "desk_matches",
    metadata,
    Column("desk_id", String(40), primary_key=True),
    Column("state", String(16), nullable=False),  # offering, relaxed, exhausted, no_eligible, accepted
    Column("why", Text),  # no_eligible: which requirement nobody meets
    Column("accepted_by", String(42)),
    Column("updated_at", Float, nullable=False),
)

# Every offer: who, at which rank and score and why, when, and how it ended.
offers = Table(
    "desk_offers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("desk_id", String(40), nullable=False, index=True),
    Column("worker", String(42), nullable=False),
    Column("rank", Integer, nullable=False),  # 1 = best at the time of the offer
    Column("score", Float, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list, one line per part of the score
    Column("ranked", Text, nullable=False),  # JSON: the whole ranking [address, score] the offer came from
    Column("relaxed", Boolean, nullable=False),  # offered after the strict round found nobody who answered
    Column("offered_at", Float, nullable=False),
    Column("answer", String(16), nullable=False),  # pending, expired, accepted, closed (someone else took it)
    Column("answered_at", Float),
    Column("hook_delivered", Boolean),  # None: the worker has no webhook
)

# Relayed profile calls the desk paid for, counted against its rate limits (escalation.desk.relay_limit).
relays = Table(
    "desk_relays",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("worker", String(42), nullable=False, index=True),
    Column("action", String(16), nullable=False),  # registration, availability
    Column("at", Float, nullable=False, index=True),  # unix seconds it was sent
)

# Which version of these tables the database holds (escalation.desk.schema brings older ones up to date).
schema_version = Table(
    "desk_schema",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("version", Integer, nullable=False),
)
