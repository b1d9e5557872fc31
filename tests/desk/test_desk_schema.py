"""The desk's schema versions: a database the first desk wrote (notices without `detail`, no version
row) opens, is brought up to date and works, in SQLite and in PostgreSQL; a newer one is refused."""

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    select,
    update,
)

from escalation.desk.schema import LATEST, migrate
from escalation.desk.tables import calls, jobs, notices, permits, schema_version, seals
from runtime.db import transaction
from runtime.errors import ConfigError
from tests.desk.conftest import follow
from tests.desk.conftest import request as ticket

# The tables of the first desk, as it created them: its notices had no `detail`, its jobs no evidence, its
# seals no statement count, and it kept no version.
FIRST = MetaData()
LATER = {"evidence_hash", "evidence_uri", "statements"}  # columns added by step 3
for table in (calls, permits):
    table.to_metadata(FIRST)
for table in (jobs, seals):
    kept = [c for c in table.columns if c.name not in LATER]
    Table(table.name, FIRST, *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable,
                                      unique=c.unique, index=c.index) for c in kept))  # fmt: skip
Table(
    "desk_notices",
    FIRST,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("desk_id", String(40), nullable=False, index=True),
    Column("status", String(24), nullable=False),
    Column("delivered", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
)


def first_desk_database(url: str) -> None:
    """A database as the first desk left it: one finished job and the notice it sent about it."""
    engine = create_engine(url)
    FIRST.create_all(engine)
    with transaction(engine) as db:
        db.execute(
            FIRST.tables["desk_jobs"].insert().values(
                desk_id="esc-old", ticket_ref="T-OLD", request="{}", context=b"{}", redactions="{}", total=1,
                day="2026-01-01", status="refunded", dirty=False, created_at=0.0,
            )
        )  # fmt: skip
        db.execute(
            FIRST.tables["desk_notices"]
            .insert()
            .values(desk_id="esc-old", status="refunded", delivered=True, attempts=1)
        )
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_of_the_first_desk_opens_and_works(backend, make_desk, tmp_path, request):
    sqlite = f"sqlite:///{tmp_path}/old.db"
    url = request.getfixturevalue("fresh_postgres_url") if backend == "postgresql" else sqlite
    first_desk_database(url)
    engine = create_engine(url)
    assert "detail" not in {c["name"] for c in inspect(engine).get_columns("desk_notices")}
    assert "evidence_hash" not in {c["name"] for c in inspect(engine).get_columns("desk_jobs")}

    service = make_desk(database_url=url)  # the desk opens it: migrated on the way in

    assert "detail" in {c["name"] for c in inspect(engine).get_columns("desk_notices")}
    assert {"evidence_hash", "evidence_uri"} <= {c["name"] for c in inspect(engine).get_columns("desk_jobs")}
    assert "statements" in {c["name"] for c in inspect(engine).get_columns("desk_seals")}
    with engine.connect() as db:
        assert db.execute(select(schema_version.c.version)).scalar_one() == LATEST
    view = service.desk.escalate(ticket())
    follow(service, view.desk_id, "open")
    with transaction(service.desk.engine) as db:
        service.follower.notifier.record(db, view.desk_id, "no_eligible", detail="nobody speaks xx")
    with engine.connect() as db:
        shown = select(notices.c.desk_id, notices.c.status, notices.c.detail)
        rows = db.execute(shown.order_by(notices.c.id))
        assert list(rows) == [
            ("esc-old", "refunded", None),
            (view.desk_id, "open", None),
            (view.desk_id, "no_eligible", "nobody speaks xx"),
        ]
    assert migrate(service.desk.engine) == (LATEST, LATEST)  # opening it again changes nothing
    engine.dispose()


def test_a_database_of_a_newer_desk_is_refused(make_desk, tmp_path):
    url = f"sqlite:///{tmp_path}/newer.db"
    make_desk(database_url=url)
    engine = create_engine(url)
    with transaction(engine) as db:
        db.execute(update(schema_version).values(version=LATEST + 1))
    with pytest.raises(ConfigError, match=f"schema version {LATEST + 1}, newer than this desk knows"):
        make_desk(database_url=url)
    engine.dispose()
