"""The runtime's sender and tracker on a real anvil: calls persisted before they are broadcast, one nonce
per claimed purpose, receipts and reorgs reported to the daemon's hooks, fee bumps, restarts, lost nonces."""

import time
from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import BigInteger, Column, Connection, MetaData, String, Table, select
from web3 import Web3

from devtools.chain import Anvil
from runtime.chain import Chain
from runtime.db import connect
from runtime.metrics import RuntimeMetrics
from runtime.sender import Call, FeePolicy, Sender
from runtime.tables import transactions
from runtime.tracking import Tracker
from tests.runtime.runtime_harness import Emitter, rpc

SCHEMA = MetaData()
claims = Table(
    "claims", SCHEMA, Column("purpose", String, primary_key=True), Column("nonce", BigInteger, nullable=False)
)
FEES = FeePolicy(bump_blocks=2, bump_percent=20, cap_wei=10**15, watch_blocks=3)


def claim(db: Connection, purpose: str, nonce: int) -> bool:
    """Exactly once per purpose: the daemon's own row, written in the sender's transaction."""
    if db.execute(select(claims.c.nonce).where(claims.c.purpose == purpose)).first() is not None:
        return False
    db.execute(claims.insert().values(purpose=purpose, nonce=nonce))
    return True


class Hooks:
    """Records what the tracker reports, as a daemon's rows would follow it."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def mined(self, db: Connection, nonce: int, tx_hash: str, succeeded: bool) -> None:
        self.events.append(("mined", nonce, tx_hash, succeeded))

    def dropped(self, db: Connection, nonce: int) -> None:
        self.events.append(("dropped", nonce))

    def confirmed(self, db: Connection, nonce: int, succeeded: bool) -> None:
        self.events.append(("confirmed", nonce, succeeded))

    def abandoned(self, db: Connection, nonce: int, detail: str) -> None:
        self.events.append(("abandoned", nonce, detail))


class Daemon:
    """A sender and its tracker over one database and key, as a daemon's wiring builds them."""

    def __init__(self, url: str, engine, account) -> None:
        self.chain, self.metrics, self.hooks = Chain.over_http(url), RuntimeMetrics("test"), Hooks()
        self.sender = Sender(self.chain, engine, account, self.metrics, FEES)
        self.tracker = Tracker(self.sender, self.chain, engine, self.metrics, FEES, self.hooks)
        self.sender.start(self.chain.chain_id())

    def send(self, emitter: Emitter, *purposes: str):
        calls = [Call(emitter.address, emitter.call_data(p, 1), 60_000, p, time.time()) for p in purposes]
        return self.sender.send(calls, self.chain.head(), claim)

    def tick(self):
        return self.tracker.tick(self.chain.head())


@pytest.fixture(scope="module")
def anvil(tmp_path_factory) -> Iterator[Anvil]:
    started = Anvil(tmp_path_factory.mktemp("anvil"))
    started.start()
    yield started
    started.kill()


@pytest.fixture
def w3(anvil) -> Iterator[Web3]:
    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))
    yield w3
    rpc(w3, "evm_setAutomine", True)  # a test that stopped mining leaves the chain as it found it


@pytest.fixture
def emitter(w3) -> Emitter:
    return Emitter.deploy(w3, w3.eth.accounts[0])


@pytest.fixture
def account(w3):
    """A fresh key with gas money, so every test starts at nonce 0."""
    fresh = Account.create()
    funding = {"from": w3.eth.accounts[0], "to": fresh.address, "value": 10**18}
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(funding), timeout=30)
    return fresh


@pytest.fixture
def engine(tmp_path):
    engine = connect(f"sqlite:///{tmp_path}/daemon.db", SCHEMA)
    yield engine
    engine.dispose()


@pytest.fixture
def daemon(anvil, engine, account) -> Daemon:
    return Daemon(anvil.url, engine, account)


def on_chain(w3: Web3, *tx_hashes: str) -> None:
    """Until each transaction has a receipt: anvil's automine answers a send before its block is
    stored, and a tick that reads the chain first would see nothing mined (a CI run under load did)."""
    for tx_hash in tx_hashes:
        w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)


def stored(engine) -> list:
    with engine.connect() as db:
        return db.execute(select(transactions).order_by(transactions.c.nonce)).all()


def test_calls_are_persisted_sent_and_followed_to_confirmation(w3, engine, emitter, daemon):
    sent = daemon.send(emitter, "a", "b", "c")

    assert [(s.nonce, s.purpose) for s in sent] == [(0, "a"), (1, "b"), (2, "c")]
    rows = stored(engine)
    assert [(row.nonce, row.to_address, row.state) for row in rows] == [
        (n, emitter.address, "pending") for n in range(3)
    ]
    assert all(
        "0x" + keccak(row.raw).hex() == row.tx_hash == s.tx_hash for row, s in zip(rows, sent, strict=True)
    )
    on_chain(w3, *(s.tx_hash for s in sent))
    mined = daemon.tick()
    assert [(m.nonce, m.tx_hash, m.succeeded) for m in mined] == [(s.nonce, s.tx_hash, True) for s in sent]
    assert all(0 <= m.seconds_since_seen < 60 for m in mined)
    assert daemon.hooks.events == [("mined", s.nonce, s.tx_hash, True) for s in sent]
    assert len(w3.eth.get_logs({"address": emitter.address, "fromBlock": 0})) == 3
    assert daemon.metrics.transactions_sent._value.get() == 3
    assert daemon.metrics.pending_transactions._value.get() == 0

    for _ in range(FEES.watch_blocks):
        rpc(w3, "evm_mine")
    daemon.tick()
    assert daemon.hooks.events[3:] == [("confirmed", n, True) for n in range(3)]
    assert {row.state for row in stored(engine)} == {"confirmed"}


def test_a_purpose_claimed_already_takes_no_nonce(engine, emitter, daemon):
    daemon.send(emitter, "a", "b")
    again = daemon.send(emitter, "a", "c")
    assert [(s.nonce, s.purpose) for s in again] == [(2, "c")]
    assert [row.nonce for row in stored(engine)] == [0, 1, 2]


def test_restart_resumes_the_nonce_and_broadcasts_the_stored_bytes_again(anvil, w3, engine, account, emitter):
    rpc(w3, "evm_setAutomine", False)
    first = Daemon(anvil.url, engine, account)
    sent = first.send(emitter, "a", "b")
    rpc(w3, "anvil_dropAllTransactions")  # the RPC lost them while the daemon was down

    restarted = Daemon(anvil.url, engine, account)  # start() re-broadcasts the pending bytes
    assert [s.nonce for s in restarted.send(emitter, "c")] == [2]  # after the database's, not the chain's
    rpc(w3, "evm_mine")
    assert [(m.nonce, m.tx_hash) for m in restarted.tick()] == [(s.nonce, s.tx_hash) for s in sent] + [
        (2, stored(engine)[2].tx_hash)
    ]


def test_a_stuck_transaction_is_re_signed_with_higher_fees(w3, engine, emitter, daemon):
    rpc(w3, "evm_setAutomine", False)
    (sent,) = daemon.send(emitter, "a")
    first_fee = stored(engine)[0].max_fee
    rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(first_fee * 10))
    for _ in range(FEES.bump_blocks):
        rpc(w3, "evm_mine")  # too expensive for it: it stays in the pool
    assert daemon.tick() == []

    (row,) = stored(engine)
    assert row.hashes.split(",")[0] == sent.tx_hash and len(row.hashes.split(",")) == 2
    assert row.max_fee > first_fee and daemon.metrics.gas_bumps._value.get() == 1
    rpc(w3, "evm_mine")
    assert [(m.nonce, m.tx_hash) for m in daemon.tick()] == [(0, row.tx_hash)]


def test_a_transaction_dropped_by_a_reorg_is_sent_again_from_the_same_bytes(w3, engine, emitter, daemon):
    (sent,) = daemon.send(emitter, "a")
    on_chain(w3, sent.tx_hash)
    daemon.tick()
    rpc(w3, "anvil_reorg", 1, [])  # drops the block that holds it

    daemon.tick()  # notices, and broadcasts the stored bytes: automine mines them again
    on_chain(w3, sent.tx_hash)
    daemon.tick()
    assert daemon.hooks.events == [
        ("mined", 0, sent.tx_hash, True),
        ("dropped", 0),
        ("mined", 0, sent.tx_hash, True),
    ]
    assert len(stored(engine)) == 1


def test_a_nonce_used_by_a_transaction_the_daemon_did_not_sign_is_abandoned(
    w3, engine, account, emitter, daemon
):
    rpc(w3, "evm_setAutomine", False)
    daemon.send(emitter, "a")
    rpc(w3, "anvil_dropAllTransactions")
    chain_id = w3.eth.chain_id
    other = {"chainId": chain_id, "nonce": 0, "to": account.address, "value": 0, "gas": 21_000,
             "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9}  # fmt: skip
    w3.eth.send_raw_transaction(account.sign_transaction(other).raw_transaction)
    for _ in range(FEES.watch_blocks):
        rpc(w3, "evm_mine")

    assert daemon.tick() == []
    assert daemon.hooks.events == [
        ("abandoned", 0, "its nonce was used by a transaction this daemon did not sign")
    ]
    assert stored(engine)[0].state == "replaced"
