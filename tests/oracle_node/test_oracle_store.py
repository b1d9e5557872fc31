"""The node's store on SQLite and on a real PostgreSQL: Polygon-sized numbers, upserts, unique keys."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oracle_node.store import (
    attestations,
    connect,
    cursor,
    insert_ignore,
    jobs,
    transaction,
    transactions,
    upsert,
)

POLYGON_TIP = 30 * 10**9  # 30 gwei: above a 32-bit integer


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/node.db"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = connect(url)
    _empty(engine)  # the PostgreSQL database is shared by the session: leave it as found
    yield engine
    _empty(engine)
    engine.dispose()


def _empty(engine) -> None:
    with transaction(engine) as db:
        for table in (transactions, attestations, jobs, cursor):
            db.execute(table.delete())


def test_transaction_row_keeps_polygon_sized_fees_and_blocks(engine):
    with transaction(engine) as db:
        db.execute(transactions.insert().values(
            nonce=2**40, job_id="0x" + "11" * 32, evidence_hash="0x" + "22" * 32, data=b"\x01", gas=3 * 10**7,
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
                   escrow="0x" + "aa" * 20, operator="0x" + "bb" * 20)  # fmt: skip
    with engine.connect() as db:
        assert db.execute(select(cursor.c.number)).scalars().all() == [9]


def test_insert_ignore_keeps_the_first_terms(engine):
    for terms in ("first", "second"):
        with transaction(engine) as db:
            insert_ignore(db, jobs, job_id="0x" + "11" * 32, terms=terms)
    with engine.connect() as db:
        assert db.execute(select(jobs.c.terms)).scalars().all() == ["first"]


def test_second_attestation_of_a_pair_is_refused_by_the_database(engine):
    row = dict(job_id="0x" + "11" * 32, evidence_hash="0x" + "22" * 32, approve=True, reason=0, state="sent")
    with transaction(engine) as db:
        db.execute(attestations.insert().values(nonce=0, **row))
    with pytest.raises(IntegrityError), transaction(engine) as db:
        db.execute(attestations.insert().values(nonce=1, **row))
