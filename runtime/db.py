"""The database engine (SQLite in WAL mode, or PostgreSQL, by SQLAlchemy URL) and the writes daemons share.

Every write that a daemon's guarantees rest on is one database transaction; unique keys are the
last line of exactly-once.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from .errors import ConfigError
from .tables import metadata

CONNECT_TIMEOUT = 10  # seconds to reach a PostgreSQL server


def connect(url: str, *schemas: MetaData) -> Engine:
    """The engine for `url`, with the runtime's tables and those of each of `schemas` created.

    A URL that cannot work (unknown scheme, a server that is down, a folder that does not exist)
    raises ConfigError naming it.
    """
    try:
        parsed = make_url(url)
        postgres = parsed.get_backend_name() == "postgresql"
        engine = create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT} if postgres else {})
    except (ArgumentError, NoSuchModuleError) as error:
        scheme = url.partition("://")[0]
        raise ConfigError(
            f"unknown database URL scheme {scheme!r}: use sqlite:///path/node.db or "
            "postgresql+psycopg://user@host/db"
        ) from error
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        for schema in (metadata, *schemas):
            schema.create_all(engine)
    except OperationalError as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise ConfigError(
            f"cannot open the database {parsed.render_as_string(hide_password=True)} ({reason}): "
            "check that the server is up or that the file's folder exists"
        ) from error
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    pragmas = dbapi_connection.cursor()
    pragmas.execute("PRAGMA journal_mode=WAL")  # readers (tests, operators) never block the daemon
    pragmas.execute("PRAGMA synchronous=FULL")  # a signed transaction on disk survives power loss
    pragmas.execute("PRAGMA busy_timeout=5000")
    pragmas.close()


@contextmanager
def transaction(engine: Engine, durable: bool = True) -> Iterator[Connection]:
    """One atomic unit of work. `durable=False` for state the daemon can derive again (from the chain,
    its peers, a deterministic signature): its commit survives the process being killed (-9) but not
    the machine losing power, and costs no disk flush; a later durable commit flushes it too (SQLite's
    WAL and PostgreSQL's log are written in commit order), so nothing durable ever gets ahead of it."""
    if durable:
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as connection:
        sqlite_db = connection.dialect.name == "sqlite"
        if sqlite_db:  # outside the transaction (the driver opens it at the first write)
            connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
            connection.commit()  # ends the pragma's autobegun (empty) transaction
        try:
            with connection.begin():
                if not sqlite_db:
                    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                yield connection
        finally:
            if sqlite_db:
                connection.exec_driver_sql("PRAGMA synchronous=FULL")
                connection.commit()


def _insert(db: Connection, table: Table) -> Any:
    """An INSERT of the connection's dialect, which knows ON CONFLICT (PostgreSQL and SQLite)."""
    return (postgresql if db.dialect.name == "postgresql" else sqlite).insert(table)


def upsert(db: Connection, table: Table, key: str, **values: Any) -> None:
    """Inserts `values`, or updates the row with the same `key`."""
    upsert_many(db, table, key, [values])


def upsert_many(db: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
    """Inserts each of `rows` (same columns in each), or updates the row with the same `key`: one
    statement, executed for all of them."""
    if rows:
        statement = _insert(db, table)
        changed = {name: statement.excluded[name] for name in rows[0] if name != key}
        db.execute(statement.on_conflict_do_update(index_elements=[key], set_=changed), rows)


def insert_ignore_many(db: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Inserts each of `rows` (same columns in each) unless a row with its unique key exists: one
    statement, executed for all of them."""
    if rows:
        db.execute(_insert(db, table).on_conflict_do_nothing(), rows)


def insert_ignore(db: Connection, table: Table, **values: Any) -> None:
    """Inserts `values` unless a row with the same unique key exists."""
    insert_ignore_many(db, table, [values])
