"""A reorg unsees what the orphaned blocks said, by the block of each log: my VoteCommitted mined after
the Drawn block is forgotten when only its own block leaves the chain; the seat stays."""

from sqlalchemy import select

from arbitration.events import PoolEvent
from arbitration.ingest import PoolLogs
from arbitration.tables import deliveries, schema, seats, votes
from arbitration.votes import give
from runtime.db import connect, transaction

ME = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"


def _seat(engine) -> tuple:
    with engine.connect() as db:
        row = db.execute(select(seats)).one()
        vote = db.execute(select(votes.c.commit_state, votes.c.reveal_state)).one()
    return row.committed_seen, row.committed_block, row.revealed_seen, tuple(vote)


def test_reorg_unsees_my_vote_by_its_own_block(tmp_path):
    engine = connect(f"sqlite:///{tmp_path}/arb.db", schema)
    logs = PoolLogs(ME)
    drawn = {"disputeId": 7, "round": 0, "arbitrator": ME, "commitEnd": 100, "revealEnd": 200}
    with transaction(engine) as db:
        assert logs.ingest(db, [PoolEvent("Drawn", drawn, 10)]) == 1
        assert give(db, 7, 0, 1)
        logs.ingest(db, [PoolEvent("VoteCommitted", {"disputeId": 7, "round": 0, "arbitrator": ME}, 20)])
    assert _seat(engine) == (True, 20, False, ("done", "waiting"))
    with transaction(engine) as db:
        logs.orphaned(db, 25)  # above my commit: nothing changes
    assert _seat(engine)[:2] == (True, 20)
    with transaction(engine) as db:
        logs.orphaned(db, 15)  # the commit's block left, the draw's did not
    assert _seat(engine)[:3] == (False, None, False)
    with engine.connect() as db:
        assert db.execute(select(seats.c.dispute_id, seats.c.block_number)).all() == [(7, 10)]


def test_someone_elses_vote_is_not_mine(tmp_path):
    engine = connect(f"sqlite:///{tmp_path}/arb.db", schema)
    logs = PoolLogs(ME)
    other = "0x" + "1" * 40
    with transaction(engine) as db:
        drawn = {"disputeId": 7, "round": 0, "arbitrator": ME, "commitEnd": 100, "revealEnd": 200}
        logs.ingest(db, [PoolEvent("Drawn", drawn, 10)])
        assert give(db, 7, 0, 2)
        logs.ingest(db, [PoolEvent("VoteCommitted", {"disputeId": 7, "round": 0, "arbitrator": other}, 11)])
    assert _seat(engine) == (False, None, False, ("waiting", "waiting"))


def test_reorg_makes_a_delivery_outcome_unknown_again_and_forgets_a_ruling_by_its_block(tmp_path):
    engine = connect(f"sqlite:///{tmp_path}/arb.db", schema)
    logs, arbitrable = PoolLogs(ME), "0x" + "2" * 40
    ruled = {"disputeId": 7, "arbitrable": arbitrable, "ruling": 1}
    with transaction(engine) as db:
        logs.ingest(
            db, [PoolEvent("Ruling", ruled, 10), PoolEvent("RulingDeliveryFailed", {"disputeId": 7}, 10)]
        )
        logs.ingest(db, [PoolEvent("RulingDelivered", {"disputeId": 7}, 20)])  # the keeper's retry

    def delivery() -> list[tuple]:
        with engine.connect() as db:
            return [tuple(r) for r in db.execute(select(deliveries.c.ruling, deliveries.c.failed)).all()]

    assert delivery() == [(1, False)]
    with transaction(engine) as db:
        logs.orphaned(db, 15)  # the retry's block left: the keeper's dry run will tell
    assert delivery() == [(1, True)]
    with transaction(engine) as db:
        logs.orphaned(db, 5)  # the ruling's own block left: the cursor reads it again
    assert delivery() == []
