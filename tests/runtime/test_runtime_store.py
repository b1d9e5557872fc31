"""The runtime's tables on SQLite and on a real PostgreSQL: Polygon-sized numbers, upserts, a daemon's own
tables beside them. Moved from test_oracle_store.py; the rows name the runtime's columns."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, select

from runtime.db import connect, transaction, upsert
from runtime.tables import blocks, cursor, transactions

POLYGON_TIP = 30 * 10**9  # 30 gwei: above a 32-bit integer
NOTES = MetaData()  # a daemon's own schema
notes = Table("runtime_test_notes", NOTES, Column("nonce", Integer, primary_key=True), Column("body", String))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/daemon.db"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = connect(url, NOTES)
    _empty(engine)  # the PostgreSQL database is shared by the session: leave it as found
    yield engine
    _empty(engine)
    NOTES.drop_all(engine)
    engine.dispose()


def _empty(engine) -> None:
    with transaction(engine) as db:
        for table in (transactions, cursor, blocks, notes):
            db.execute(table.delete())


def test_transaction_row_keeps_polygon_sized_fees_and_blocks(engine):
    with transaction(engine) as db:
        db.execute(transactions.insert().values(
            nonce=2**40, to_address="0x" + "11" * 20, data=b"\x01", gas=3 * 10**7,
            raw=b"\x02", tx_hash="0x" + "33" * 32, hashes="0x" + "33" * 32, max_fee=4 * POLYGON_TIP,
            priority_fee=POLYGON_TIP, broadcast_block=2**33, state="pending", seen_at=1.5,
        ))  # fmt: skip
    with engine.connect() as db:
        row = db.execute(select(transactions)).one()
    assert (row.nonce, row.max_fee, row.priority_fee, row.broadcast_block) == (
        2**40,
        4 * POLYGON_TIP,
        POLYGON_TIP,
        2**33,
    )


def test_upsert_updates_the_single_cursor_row(engine):
    for number in (5, 9):
        with transaction(engine) as db:
            upsert(db, cursor, "id", id=1, number=number, hash=f"0x{number:064x}", chain_id=137,
                   watching="0x" + "aa" * 20, signer="0x" + "bb" * 20)  # fmt: skip
    with engine.connect() as db:
        assert db.execute(select(cursor.c.number)).scalars().all() == [9]


def test_connect_creates_the_runtime_tables_and_the_daemons_own(engine):
    names = set(inspect(engine).get_table_names())
    assert {"cursor", "blocks", "transactions", "runtime_test_notes"} <= names
    with transaction(engine) as db:
        db.execute(notes.insert().values(nonce=7, body="links to transactions.nonce"))
    with engine.connect() as db:
        assert db.execute(select(notes.c.body).where(notes.c.nonce == 7)).scalar_one() == (
            "links to transactions.nonce"
        )


def _flush_setting(db) -> str:
    if db.dialect.name == "sqlite":
        return str(db.exec_driver_sql("PRAGMA synchronous").scalar())  # 2: FULL
    return str(db.exec_driver_sql("SHOW synchronous_commit").scalar())


def test_a_transaction_without_flush_commits_rolls_back_and_leaves_the_connection_durable(engine):
    with engine.connect() as db:
        durable = _flush_setting(db)
    with transaction(engine, durable=False) as db:
        db.execute(notes.insert().values(nonce=1, body="kept"))
    with pytest.raises(RuntimeError), transaction(engine, durable=False) as db:
        db.execute(notes.insert().values(nonce=2, body="rolled back"))
        raise RuntimeError("a failure midway")
    with engine.connect() as db:
        assert db.execute(select(notes.c.nonce)).scalars().all() == [1]
        assert _flush_setting(db) == durable in ("2", "on")  # the next transaction flushes again


def test_a_transaction_without_flush_survives_its_process_killed(tmp_path):
    url = f"sqlite:///{tmp_path}/killed.db"
    program = (
        "import os, signal, sys\n"
        "from runtime.db import connect, transaction\n"
        "from tests.runtime.test_runtime_store import NOTES, notes\n"
        f"engine = connect({url!r}, NOTES)\n"
        "with transaction(engine, durable=False) as db:\n"
        "    db.execute(notes.insert().values(nonce=7, body='before the kill'))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", program], cwd=Path(__file__).parents[2], check=False)
    assert killed.returncode == -signal.SIGKILL
    engine = connect(url, NOTES)
    with engine.connect() as db:
        assert db.execute(select(notes.c.body)).scalars().all() == ["before the kill"]
    engine.dispose()
