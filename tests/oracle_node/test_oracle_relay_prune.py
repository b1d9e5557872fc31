"""Settled relay items are pruned with their signatures and sends once the retention has passed, on
SQLite and on a real PostgreSQL; open items, recent ones and those with a send in flight are kept."""

import pytest
from sqlalchemy import func, select

from oracle_node.relay_store import ItemState, prune, relay_items, relay_sends, relay_signatures
from oracle_node.store import connect
from runtime.db import transaction

NOW = 1_900_000_000.0
DAY = 86_400.0


@pytest.fixture
def engine(empty_database_url):
    engine = connect(empty_database_url)
    yield engine
    engine.dispose()


def _item(engine, n: int, state: str, age_days: float, send: str | None = None) -> tuple[str, str]:
    """An item received `age_days` ago with two signatures and, when `send`, one send in that state."""
    key = ("0x" + f"{n:064x}", "0x" + f"{n + 1000:064x}")
    with transaction(engine) as db:
        db.execute(
            relay_items.insert().values(
                job_id=key[0], evidence_hash=key[1], source="intake", terms="{}", uri="file:///e",
                state=state, attempts=0, retry_at=0.0, received_at=NOW - age_days * DAY, pushed_at=0.0,
            )
        )  # fmt: skip
        for signer in ("0x" + "aa" * 20, "0x" + "bb" * 20):
            db.execute(
                relay_signatures.insert().values(
                    job_id=key[0], evidence_hash=key[1], signer=signer, approve=True, reason=0,
                    set_nonce=4, signature="0x" + "11" * 64,
                )
            )  # fmt: skip
        if send is not None:
            db.execute(
                relay_sends.insert().values(
                    job_id=key[0], evidence_hash=key[1], kind="submitAndAttest", nonce=n, state=send
                )
            )
    return key


def _keys(engine, table) -> set[tuple[str, str]]:
    with engine.connect() as db:
        return {tuple(row) for row in db.execute(select(table.c.job_id, table.c.evidence_hash)).all()}


def test_prune_deletes_settled_items_past_the_retention_with_their_signatures_and_sends(engine):
    old_done = _item(engine, 1, ItemState.DONE, 8, send="confirmed")
    old_dropped = _item(engine, 2, ItemState.DROPPED, 30)
    old_fallback = _item(engine, 3, ItemState.FALLBACK, 9, send="reverted")
    recent_done = _item(engine, 4, ItemState.DONE, 6, send="confirmed")
    old_open = [_item(engine, 5 + i, state, 20) for i, state in enumerate(ItemState.OPEN)]
    in_flight = _item(engine, 20, ItemState.DONE, 8, send="mined")  # ours still moving: kept

    assert prune(engine, NOW - 7 * DAY) == 3

    kept = {recent_done, in_flight, *old_open}
    assert _keys(engine, relay_items) == kept
    assert _keys(engine, relay_signatures) == kept
    assert _keys(engine, relay_sends) == {recent_done, in_flight}
    assert not {old_done, old_dropped, old_fallback} & _keys(engine, relay_signatures)
    assert prune(engine, NOW - 7 * DAY) == 0  # nothing more to do


def test_prune_works_in_batches_of_at_most_limit(engine):
    for n in range(7):
        _item(engine, n, ItemState.DONE, 10)

    assert prune(engine, NOW - DAY, limit=3) == 3
    assert prune(engine, NOW - DAY, limit=3) == 3
    assert prune(engine, NOW - DAY, limit=3) == 1
    with engine.connect() as db:
        assert db.execute(select(func.count()).select_from(relay_signatures)).scalar_one() == 0
