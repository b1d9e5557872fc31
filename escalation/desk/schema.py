"""Schema versions of the desk's tables: a database an earlier desk wrote is brought up to date when
the desk opens it, one numbered step at a time, all in one transaction; a newer one is refused.

`create_all` makes missing tables but never changes a table that exists, so every change to an
existing table is a step here. Version 1 is the first desk's tables; a database without a version
row is taken as version 1, and each step checks before it changes anything, so it is also a no-op
on a database `create_all` has just made at the latest version.
"""

from collections.abc import Callable

from sqlalchemy import Connection, Engine, inspect, select, text, update

from runtime.db import transaction
from runtime.errors import ConfigError

from .tables import jobs, notices, schema_version, seals


def _notice_detail(db: Connection) -> None:
    """2: notices say why (the matcher's no_eligible notice names the requirement nobody meets)."""
    columns = {column["name"] for column in inspect(db).get_columns(notices.name)}
    if "detail" not in columns:
        db.execute(text(f"ALTER TABLE {notices.name} ADD COLUMN detail TEXT"))


def _evidence_and_statements(db: Connection) -> None:
    """3: the job's EvidenceSubmitted (hash, URI) for its case files, and how many dispute statements
    each case file holds (a new statement re-seals it); `desk_statements` is a new table."""
    for table, added in ((jobs, {"evidence_hash": "VARCHAR(66)", "evidence_uri": "VARCHAR(2000)"}),
                         (seals, {"statements": "INTEGER"})):  # fmt: skip
        columns = {column["name"] for column in inspect(db).get_columns(table.name)}
        for name, kind in added.items():
            if name not in columns:
                db.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))


STEPS: dict[int, Callable[[Connection], None]] = {2: _notice_detail, 3: _evidence_and_statements}
LATEST = max(STEPS)


def migrate(engine: Engine) -> tuple[int, int]:
    """Brings the desk's tables in `engine` to LATEST; returns (the version found, the version now)."""
    with transaction(engine) as db:
        row = db.execute(select(schema_version.c.version)).first()
        found = row.version if row is not None else 1
        if found > LATEST:
            raise ConfigError(
                f"the desk's database holds schema version {found}, newer than this desk knows ({LATEST}): "
                "run the newer desk, or give --database-url another database"
            )
        for version in range(found + 1, LATEST + 1):
            STEPS[version](db)
        if row is None:
            db.execute(schema_version.insert().values(id=1, version=LATEST))
        elif found != LATEST:
            db.execute(update(schema_version).values(version=LATEST))
    return found, LATEST
