"""Ranking and batch assignment, in process, with hypothesis: never an ineligible worker, never over
capacity, the batch never worse than greedy and equal to the dense linear_sum_assignment optimum; with
`cover`, as many jobs matched as a maximum matching allows."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from escalation.matching.assign import assign, assign_dense, assign_scores, greedy
from escalation.matching.eligibility import may_accept, why_nobody
from escalation.matching.model import JobNeed, Signals
from escalation.matching.pool import Pool
from escalation.matching.score import ScoreWeights
from tests.escalation.test_matching_contract import Record

settings.register_profile("matching", max_examples=150, deadline=None)
PROFILE = settings.get_profile("matching")
settings.register_profile("matching_small", max_examples=60, deadline=None)
SMALL = settings.get_profile("matching_small")  # for the properties that repeat the ones above under a twist


@st.composite
def workers(draw):
    found = []
    for i in range(draw(st.integers(0, 12))):
        capacity = draw(st.integers(0, 3))
        found.append(Record(
            f"0x{i + 1:040x}", draw(st.integers(1, 7)), draw(st.integers(0, 15)), draw(st.integers(0, 3)),
            capacity, draw(st.integers(0, max(capacity, 0))), draw(st.booleans()),
            draw(st.integers(0, 300)), draw(st.integers(0, 20)), draw(st.integers(0, 10)),
        ))  # fmt: skip
    return found


needs = st.builds(JobNeed, st.integers(0, 3), st.integers(0, 7), st.integers(0, 3), st.none(),
                  st.none() | st.floats(-12, 14))  # fmt: skip
signals = st.dictionaries(st.sampled_from([f"0x{i:040x}" for i in range(1, 13)]),
                          st.builds(Signals, st.none() | st.floats(0, 600),
                                    st.none() | st.floats(-12, 14)))  # fmt: skip
weights = st.builds(ScoreWeights, eligible=st.floats(0.01, 5), extra_expertise=st.floats(0, 5),
                    experience=st.floats(0, 5), load=st.floats(0, 5), timezone=st.floats(0, 5))  # fmt: skip


@settings(PROFILE)
@given(ws=workers(), need=needs, sig=signals, w=weights)
def test_ranking_holds_exactly_the_eligible_workers_best_first(ws, need, sig, w):
    pool = Pool(ws, sig)
    ranking = pool.rank(need, w, limit=None)
    ranked = [c.address for c in ranking.candidates]
    assert sorted(ranked) == sorted(x.address for x in ws if may_accept(x, need))
    assert [c.score for c in ranking.candidates] == sorted(
        (c.score for c in ranking.candidates), reverse=True
    )
    assert all(c.score >= w.eligible - 1e-9 and len(c.reasons) == 8 for c in ranking.candidates)
    assert (ranking.why is None) == bool(ranked)
    if not ranked:
        assert ranking.why == why_nobody(ws, need) != ""


@settings(PROFILE)
@given(ws=workers(), jobs=st.lists(needs, max_size=10), sig=signals, w=weights)
def test_batch_never_ineligible_never_over_capacity_never_worse_than_greedy(ws, jobs, sig, w):
    pool = Pool(ws, sig)
    scores = pool.scores(jobs, w) if len(pool) else np.empty((len(jobs), 0))
    batch = assign_scores(pool, scores)
    by_address = {x.address: x for x in ws}
    for need, address in zip(jobs, batch.workers, strict=True):
        assert address is None or may_accept(by_address[address], need)
    used = Counter(a for a in batch.workers if a is not None)
    assert all(by_address[a].active_jobs + n <= by_address[a].max_concurrent for a, n in used.items())
    assert batch.total >= greedy(pool, scores).total - 1e-6
    assert batch.total == pytest.approx(assign_dense(pool, scores).total, abs=1e-6)


def test_batch_gives_the_only_speaker_to_the_job_that_needs_them():
    # Greedy hands the best worker to the first job; the second job then finds nobody.
    ws = [Record("0x" + "a" * 40, 0b11, 0, 0, 1, 0, True, completed=300),
          Record("0x" + "b" * 40, 0b01, 0, 0, 1, 0, True)]  # fmt: skip
    jobs = [JobNeed(0), JobNeed(1)]
    pool = Pool(ws)
    assert greedy(pool, pool.scores(jobs, ScoreWeights())).workers == ("0x" + "a" * 40, None)
    assert assign(pool, jobs, ScoreWeights()).workers == ("0x" + "b" * 40, "0x" + "a" * 40)


@pytest.mark.parametrize(
    ("need", "why"),
    [(JobNeed(2), "no registered worker speaks fr"),
     (JobNeed(0, certifications=0b100),
      "no worker who speaks en with that expertise holds certifications 0x4"),
     (JobNeed(0, expertise=0b1000), "no worker who speaks en has every expertise bit of 0x8")],
)  # fmt: skip
def test_nobody_eligible_says_which_requirement(need, why):
    ws = [Record("0x" + "a" * 40, 0b11, 0b1, 0b1, 1, 0, True)]
    ranking = Pool(ws).rank(need, ScoreWeights())
    assert ranking.candidates == () and ranking.why == why


@settings(SMALL)
@given(ws=workers(), jobs=st.lists(needs, max_size=10), held=st.lists(st.integers(0, 3), max_size=12))
def test_batch_respects_slots_held_by_other_offers_and_still_beats_greedy(ws, jobs, held):
    # The desk passes the free slots minus the offers each worker already holds for other jobs.
    pool = Pool(ws)
    free = pool.free - np.resize(np.array(held or [0], dtype=np.int64), len(pool))
    scores = pool.scores(jobs, ScoreWeights()) if len(pool) else np.empty((len(jobs), 0))
    batch = assign_scores(pool, scores, free)
    used = Counter(pool.index[a.lower()] for a in batch.workers if a is not None)
    assert all(n <= free[i] for i, n in used.items())
    assert batch.total >= greedy(pool, scores, free).total - 1e-6
    assert batch.total == pytest.approx(assign_dense(pool, scores, free).total, abs=1e-6)


@settings(SMALL)
@given(ws=workers(), jobs=st.lists(needs, max_size=10), w=weights)
def test_cover_matches_the_most_jobs_possible_then_the_best_total(ws, jobs, w):
    pool = Pool(ws)
    scores = pool.scores(jobs, w) if len(pool) else np.empty((len(jobs), 0))
    covered = assign_scores(pool, scores, cover=True)
    matched = sum(a is not None for a in covered.workers)
    slots = np.repeat(np.arange(len(pool)), np.minimum(pool.free, len(jobs)))  # one column per free slot
    graph = csr_matrix(np.isfinite(scores[:, slots]).astype(np.int8) if len(jobs) else np.zeros((0, 0)))
    most = int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum()) if slots.size else 0
    assert matched == most >= sum(a is not None for a in assign_scores(pool, scores).workers)
    bonus = 1_000.0  # any bonus above every total gives the same optimum
    dense = assign_dense(pool, np.where(np.isfinite(scores), scores + bonus, -np.inf))
    assert covered.total == pytest.approx(dense.total - bonus * matched, abs=1e-6)
