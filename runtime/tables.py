"""The tables every daemon has: its log cursor, the hashes of recent blocks and the transactions it sent.

A daemon adds its own tables in a MetaData of its own (see db.connect); its rows refer to a
transaction by the nonce, the key of `transactions`.
"""

from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, LargeBinary, MetaData, String, Table

metadata = MetaData()

# One row per chain position the cursor has acted on, and one per block that held a log: enough to
# find the common ancestor after a reorg without storing every header.
blocks = Table(
    "blocks",
    metadata,
    Column("number", BigInteger, primary_key=True),
    Column("hash", String(66), nullable=False),
)

# Where the cursor is, and whose database this is: one chain, one set of contracts, one key.
cursor = Table(
    "cursor",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("number", BigInteger, nullable=False),  # last block whose logs are ingested
    Column("hash", String(66), nullable=False),
    Column("chain_id", BigInteger, nullable=False),
    Column("watching", String, nullable=False),  # the contracts whose logs it follows, comma-separated
    Column("signer", String(42), nullable=False),  # the key whose nonces `transactions` holds
)

# One row per nonce of the daemon's key; the signed bytes are written before they are broadcast.
transactions = Table(
    "transactions",
    metadata,
    Column("nonce", BigInteger, primary_key=True),
    Column("to_address", String(42), nullable=False),  # the contract called
    Column("data", LargeBinary, nullable=False),  # calldata
    Column("gas", BigInteger, nullable=False),
    Column("raw", LargeBinary, nullable=False),  # the newest signed version
    Column("tx_hash", String(66), nullable=False),  # its hash
    Column("hashes", String, nullable=False),  # every hash ever signed for this nonce, comma-separated
    Column("max_fee", BigInteger, nullable=False),
    Column("priority_fee", BigInteger, nullable=False),
    Column("broadcast_block", BigInteger, nullable=False),  # head when (re)broadcast; bumps count from here
    Column("state", String(16), nullable=False),  # pending, mined, confirmed, replaced
    Column("mined_block", BigInteger),
    Column("mined_hash", String(66)),  # hash of the block that holds it, to notice it being dropped
    Column("succeeded", Boolean),
    Column("seen_at", Float, nullable=False),  # wall clock when the work behind it began (latency origin)
)
