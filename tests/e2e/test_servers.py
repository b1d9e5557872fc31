"""The test servers really serve: redis answers SET/GET, PostgreSQL stores and returns rows."""

import redis
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.engine import make_url


def test_redis_server_sets_and_gets(redis_server):
    client = redis.Redis.from_url(redis_server)
    try:
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
    finally:
        client.close()


def test_redis_server_listens_on_loopback(redis_server):
    client = redis.Redis.from_url(redis_server)
    try:
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        assert client.config_get("save")["save"] == ""
    finally:
        client.close()


def test_postgres_creates_inserts_and_selects(postgres_url):
    engine = create_engine(postgres_url)
    notes = Table("notes", MetaData(), Column("id", Integer, primary_key=True), Column("body", String))
    try:
        notes.create(engine)
        with engine.begin() as db:
            db.execute(insert(notes), [{"body": "first"}, {"body": "second"}])
        with engine.connect() as db:
            bodies = db.execute(select(notes.c.body).order_by(notes.c.id)).scalars().all()
            assert bodies == ["first", "second"]
            assert db.dialect.name == "postgresql"
    finally:
        notes.drop(engine, checkfirst=True)
        engine.dispose()


def test_postgres_url_names_the_oracle_database_on_loopback(postgres_url):
    url = make_url(postgres_url)
    assert (url.drivername, url.host, url.database) == ("postgresql+psycopg", "127.0.0.1", "oracle")
