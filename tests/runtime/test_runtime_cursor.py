"""The runtime's log cursor on a real anvil: any contracts and events, in order, once; reorgs found by block
hash and rewound to the common ancestor; ranges the RPC refuses halved; a database bound to one deployment."""

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import BigInteger, Column, Connection, Integer, MetaData, String, Table, delete, select
from web3 import Web3

from devtools.accounts import key_of
from devtools.chain import Anvil
from runtime.chain import Chain, Log
from runtime.cursor import LogCursor, LogFilter
from runtime.db import connect
from runtime.errors import RpcError, WrongDeployment
from runtime.metrics import RuntimeMetrics
from tests.runtime.runtime_harness import Emitter, RpcProxy, rpc, topic

SCHEMA = MetaData()
seen = Table(
    "seen",
    SCHEMA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(42), nullable=False),
    Column("event", String(66), nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("block_number", BigInteger, nullable=False),
)
SIGNER = "0x" + "5e" * 20


class Recorder:
    """A daemon's handler: one row per log, deleted again when its block leaves the chain."""

    def __init__(self) -> None:
        self.orphaned_after: list[int] = []

    def decode(self, log: Log) -> tuple[str, str, int, int]:
        return log.address, log.topics[0], int.from_bytes(log.data, "big"), log.block_number

    def ingest(self, db: Connection, events: list[tuple[str, str, int, int]]) -> int:
        for address, event, value, number in events:
            db.execute(seen.insert().values(address=address, event=event, value=value, block_number=number))
        return len(events)

    def orphaned(self, db: Connection, after: int) -> None:
        self.orphaned_after.append(after)
        db.execute(delete(seen).where(seen.c.block_number > after))


@pytest.fixture(scope="module")
def anvil(tmp_path_factory) -> Iterator[Anvil]:
    started = Anvil(tmp_path_factory.mktemp("anvil"))
    started.start()
    yield started
    started.kill()


@pytest.fixture
def w3(anvil) -> Web3:
    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))


@pytest.fixture
def emitters(w3) -> tuple[Emitter, Emitter]:
    sender = w3.eth.accounts[0]
    return Emitter.deploy(w3, sender), Emitter.deploy(w3, sender)


@pytest.fixture
def engine(tmp_path):
    engine = connect(f"sqlite:///{tmp_path}/daemon.db", SCHEMA)
    yield engine
    engine.dispose()


def make_cursor(url, engine, addresses, events, chunk=2_000, start_block=0, recorder=None):
    chain = Chain.over_http(url)
    source = LogFilter(tuple(addresses), tuple(topic(event) for event in events))
    cursor = LogCursor(
        chain, engine, RuntimeMetrics("test"), source, recorder or Recorder(), start_block, chunk
    )
    cursor.bind(chain.chain_id(), SIGNER)
    return cursor, chain


def rows(engine) -> list[tuple[str, str, int]]:
    with engine.connect() as db:
        found = db.execute(select(seen.c.address, seen.c.event, seen.c.value).order_by(seen.c.id)).all()
    return [tuple(row) for row in found]


def test_reads_only_the_watched_contract_and_events_in_chain_order(anvil, w3, engine, emitters):
    watched, other = emitters
    first = watched.emit("Opened", 1)
    watched.emit("Ignored", 2)
    other.emit("Opened", 3)
    watched.emit("Closed", 4)
    cursor, chain = make_cursor(anvil.url, engine, [watched.address], ["Opened", "Closed"], start_block=first)

    assert cursor.poll(chain.head()) == 2
    address = watched.address.lower()  # as the RPC returns it
    assert rows(engine) == [(address, topic("Opened"), 1), (address, topic("Closed"), 4)]
    assert cursor.position() == chain.head()
    assert cursor.poll(chain.head()) == 0  # nothing twice


def test_reads_several_contracts_and_resumes_after_a_restart(anvil, w3, engine, emitters):
    one, two = emitters
    first = one.emit("Opened", 1)
    two.emit("Opened", 2)
    addresses = [one.address, two.address]
    cursor, chain = make_cursor(anvil.url, engine, addresses, ["Opened"], start_block=first)
    assert cursor.poll(chain.head()) == 2

    two.emit("Opened", 3)
    restarted, _ = make_cursor(anvil.url, engine, addresses, ["Opened"], start_block=first)
    assert restarted.poll(chain.head()) == 1
    assert [value for _, _, value in rows(engine)] == [1, 2, 3]


def test_reorg_rewinds_to_the_common_ancestor_and_reads_the_new_fork(anvil, w3, engine, emitters, caplog):
    emitter, _ = emitters
    kept = emitter.emit("Opened", 1)
    dropped = emitter.emit("Opened", 2)
    rpc(w3, "evm_mine")
    recorder = Recorder()
    cursor, chain = make_cursor(anvil.url, engine, [emitter.address], ["Opened"], 16, kept, recorder)
    assert cursor.poll(chain.head()) == 2

    rpc(w3, "anvil_reorg", 2, [])  # replaces the block of the second log and the one after it
    assert w3.eth.get_block(dropped)["transactions"] == []
    emitter.emit("Opened", 3)
    with caplog.at_level(logging.WARNING, logger="runtime.cursor"):
        new = cursor.poll(chain.head())

    assert recorder.orphaned_after == [kept]  # the last block whose hash did not change
    assert new == 1 and [value for _, _, value in rows(engine)] == [1, 3]
    assert cursor.position() == chain.head()
    assert f"reorg: block {dropped + 1} changed; rewinding to {kept}" in caplog.text


def test_a_range_the_rpc_refuses_is_halved_until_it_passes(anvil, w3, engine, emitters, caplog):
    emitter, _ = emitters
    first = emitter.emit("Opened", 0)
    for value in range(1, 6):
        rpc(w3, "evm_mine")
        emitter.emit("Opened", value)
    with RpcProxy(anvil.url, max_range=4).serving() as proxy:
        cursor, chain = make_cursor(proxy.url, engine, [emitter.address], ["Opened"], 16, first)
        head = chain.head()
        with caplog.at_level(logging.WARNING, logger="runtime.cursor"):
            assert cursor.poll(head) == 0  # 16 refused: 8 next time
            assert cursor.poll(head) == 0  # 8 refused: 4 next time
            while cursor.position() < head:
                cursor.poll(head)
        assert proxy.refused == 2
    assert [value for _, _, value in rows(engine)] == [0, 1, 2, 3, 4, 5]
    assert "now 8 blocks per request" in caplog.text and "now 4 blocks per request" in caplog.text


def test_a_single_block_the_rpc_refuses_is_an_rpc_error(anvil, w3, engine, emitters):
    emitter, _ = emitters
    first = emitter.emit("Opened", 1)
    with RpcProxy(anvil.url, max_range=0).serving() as proxy:
        cursor, chain = make_cursor(proxy.url, engine, [emitter.address], ["Opened"], 1, first)
        with pytest.raises(RpcError, match="query exceeds 0 blocks"):
            cursor.poll(chain.head())


def test_database_of_other_contracts_or_another_signer_is_refused(anvil, w3, engine, emitters):
    one, two = emitters
    first = one.emit("Opened", 1)
    cursor, chain = make_cursor(anvil.url, engine, [one.address], ["Opened"], start_block=first)
    cursor.poll(chain.head())

    with pytest.raises(WrongDeployment, match=f"watching {one.address}"):
        make_cursor(anvil.url, engine, [two.address], ["Opened"], start_block=first)
    other = LogCursor(chain, engine, RuntimeMetrics("test"), LogFilter((one.address,), ()), Recorder(), 0, 10)
    with pytest.raises(WrongDeployment, match="use another database_url"):
        other.bind(chain.chain_id(), str(Web3().eth.account.from_key(key_of(5)).address))
    other.bind(chain.chain_id(), SIGNER)  # the same deployment and key: accepted
