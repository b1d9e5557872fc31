"""The cached pool (LivePool) against the indexer's read model, in process with hypothesis: through
registrations, availability and work records, reorgs that undo them and restarts of the reader, it
always scores every job exactly as a pool built afresh from the read model's rows would."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.matching.model import JobNeed
from escalation.matching.pool import Pool
from escalation.matching.score import ScoreWeights
from escalation.matching.source import LivePool
from indexer.facts import Fact, Kind
from indexer.queries import ReadModel
from indexer.store import ReadModelLogs
from indexer.tables import metadata as indexer_tables
from indexer.views import Views
from runtime.db import connect, transaction

settings.register_profile("live_pool", max_examples=30, deadline=None)
ADDRESSES = [f"0x{i:040x}" for i in range(1, 7)]
NEEDS = [JobNeed(0), JobNeed(1, expertise=0b1), JobNeed(0, certifications=0b1), JobNeed(2)]

registered = st.fixed_dictionaries({
    "languages": st.integers(1, 7), "expertise": st.integers(0, 3), "maxConcurrent": st.integers(1, 3),
    "encryptionKey": st.just("0x" + "11" * 32), "profileURI": st.just("ipfs://w"),
})  # fmt: skip
event = st.one_of(
    st.tuples(st.just("WorkerRegistered"), registered),
    st.tuples(st.just("AvailabilityChanged"), st.fixed_dictionaries({"available": st.booleans()})),
    st.tuples(st.just("CertificationsChanged"), st.fixed_dictionaries({"certifications": st.integers(0, 3)})),
    st.tuples(st.just("WorkRecorded"), st.fixed_dictionaries({
        "activeJobs": st.integers(0, 3), "completed": st.integers(0, 50),
        "missedDeadlines": st.integers(0, 5), "disputesLost": st.integers(0, 5)})),
)  # fmt: skip
step = st.one_of(
    st.tuples(st.just("block"), st.lists(st.tuples(st.sampled_from(ADDRESSES), event), min_size=1,
                                         max_size=4)),
    st.tuples(st.just("reorg"), st.integers(1, 3)),
    st.tuples(st.just("restart"), st.none()),
)  # fmt: skip


def by_address(pool: Pool) -> dict[str, list[float]]:
    """Each worker's scores for NEEDS; workers never eligible for any of them are left out."""
    scores = pool.scores(NEEDS, ScoreWeights()) if len(pool) else np.empty((len(NEEDS), 0))
    return {a: list(scores[:, i]) for i, a in enumerate(pool.address) if np.isfinite(scores[:, i]).any()}


@settings(settings.get_profile("live_pool"))
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_live_pool_scores_as_a_fresh_pool_through_writes_reorgs_and_restarts(steps):
    engine = connect("sqlite://", indexer_tables)
    logs = ReadModelLogs({}, Views(None, {}, 0))  # type: ignore[arg-type]  # worker facts read no views
    model = ReadModel(engine)
    live, block = LivePool(model), 0
    for kind, arg in steps:
        if kind == "block":
            block += 1
            facts = [Fact(Kind.WORKER, a, name, args, block, f"0x{block:064x}") for a, (name, args) in arg]
            with transaction(engine) as db:
                logs.ingest(db, facts)  # type: ignore[arg-type]
        elif kind == "reorg":
            block = max(block - arg, 0)
            with transaction(engine) as db:
                logs.orphaned(db, block)
        else:
            live = LivePool(model)
        pool = live.pool()
        assert by_address(pool) == by_address(Pool(model.workers()))
        assert pool.version == model.worker_changes().last


def test_live_pool_reloads_when_the_indexer_database_is_rebuilt(tmp_path):
    logs = ReadModelLogs({}, Views(None, {}, 0))  # type: ignore[arg-type]
    args = {"languages": 1, "expertise": 1, "maxConcurrent": 1, "encryptionKey": "0x" + "11" * 32,
            "profileURI": "ipfs://w"}  # fmt: skip

    def database(name, addresses):
        engine = connect(f"sqlite:///{tmp_path / name}", indexer_tables)
        with transaction(engine) as db:
            logs.ingest(db, [Fact(Kind.WORKER, a, "WorkerRegistered", args, 1, "0x") for a in addresses])  # type: ignore[list-item]
        return ReadModel(engine)

    live = LivePool(database("old.db", ADDRESSES[:3]))
    assert len(live.pool()) == 3 and live.pool().version == 3
    live.read_model = database("new.db", ADDRESSES[3:7])  # synced again from block 0, and further
    assert live.pool().address == ADDRESSES[3:7] and live.pool().version == 3
    live.read_model = database("newer.db", ADDRESSES[:1])  # again, shorter: the log went back
    assert live.pool().address == ADDRESSES[:1] and live.pool().version == 1
