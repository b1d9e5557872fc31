"""The node's own tables on SQLite and on a real PostgreSQL: terms kept once, one attestation per pair."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oracle_node.store import attestations, connect, jobs
from runtime.db import insert_ignore, transaction
from runtime.tables import cursor, transactions

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
