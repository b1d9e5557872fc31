"""The relayed sends' transaction hooks move the send and its item together: claimed (sending), mined
(done), reverted (signed again, one more attempt, retried later), its nonce taken by another transaction
(signed again at once); on SQLite and on a real PostgreSQL."""

import time

import pytest
from sqlalchemy import select

from oracle_node.relay_sends import (
    RETRY_AFTER,
    SUBMIT_AND_ATTEST,
    SUBMIT_EVIDENCE_FOR,
    RelayHooks,
    RelaySend,
    claim,
)
from oracle_node.relay_store import ItemState, new_item, relay_items, relay_sends
from oracle_node.store import connect
from runtime.db import transaction

JOB, HASH = "0x" + "12" * 32, "0x" + "34" * 32


@pytest.fixture
def engine(empty_database_url):
    engine = connect(empty_database_url)
    with transaction(engine) as db:
        db.execute(relay_items.insert(), new_item(JOB, HASH, "intake", 1.0, terms="{}", uri="file:///e"))
    yield engine
    engine.dispose()


def item(engine):
    with engine.connect() as db:
        return db.execute(select(relay_items)).one()


def send_state(engine) -> list[tuple[str, int, str]]:
    with engine.connect() as db:
        return [
            tuple(r) for r in db.execute(select(relay_sends.c.kind, relay_sends.c.nonce, relay_sends.c.state))
        ]


def claimed(engine, kind: str = SUBMIT_AND_ATTEST, nonce: int = 7) -> bool:
    with transaction(engine) as db:
        return claim(db, RelaySend(JOB, HASH, kind), nonce)


def test_a_claimed_verdict_is_sending_and_its_mined_transaction_makes_it_done(engine):
    assert claimed(engine)
    assert item(engine).state == ItemState.SENDING
    assert not claimed(engine, nonce=8), "a live send is not claimed twice"
    with transaction(engine) as db:
        RelayHooks().mined(db, 7, "0x" + "ab" * 32, True)
    row = item(engine)
    assert (row.state, row.detail) == (ItemState.DONE, "sent")
    assert send_state(engine) == [(SUBMIT_AND_ATTEST, 7, "mined")]


def test_a_reverted_verdict_is_signed_again_with_one_more_attempt_and_a_later_retry(engine):
    claimed(engine)
    before = time.time()
    with transaction(engine) as db:
        RelayHooks().mined(db, 7, "0x" + "ab" * 32, False)
    row = item(engine)
    assert (row.state, row.attempts, row.detail) == (ItemState.SIGNED, 1, "our transaction reverted")
    assert before + RETRY_AFTER <= row.retry_at <= time.time() + RETRY_AFTER
    assert claimed(engine, nonce=9), "a reverted send is claimed again"
    assert send_state(engine) == [(SUBMIT_AND_ATTEST, 9, "sent")]


def test_a_verdict_whose_nonce_went_elsewhere_is_signed_again_at_once(engine):
    claimed(engine)
    with transaction(engine) as db:
        RelayHooks().abandoned(db, 7, "its nonce was used by a transaction this daemon did not sign")
    row = item(engine)
    assert (row.state, row.attempts) == (ItemState.SIGNED, 0)
    assert row.detail == "its nonce was used by a transaction this daemon did not sign"


def test_a_fallback_evidence_send_leaves_the_item_to_the_on_chain_path(engine):
    claimed(engine, SUBMIT_EVIDENCE_FOR)
    assert item(engine).state == ItemState.FALLBACK
    with transaction(engine) as db:
        RelayHooks().mined(db, 7, "0x" + "ab" * 32, False)
    assert item(engine).state == ItemState.FALLBACK
    assert send_state(engine) == [(SUBMIT_EVIDENCE_FOR, 7, "reverted")]
