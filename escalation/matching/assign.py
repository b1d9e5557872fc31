"""A batch of jobs against the pool as an assignment problem: a column per free slot, best total score.

Only a job's best eligible slots, up to `len(jobs)` of them, can be in an optimal assignment (at
most `len(jobs) - 1` other jobs take slots ahead of it), so each job gets edges to its best workers
until their free slots reach `len(jobs)`, plus a "nobody" column worth 0. That sparse problem is
solved by scipy's LAPJVsp (`min_weight_full_bipartite_matching`): the dense `linear_sum_assignment`
over every slot gives the same total (a test checks it) but took 2 s for 500 jobs x 5,000 workers.

With `cover`, the most jobs that can be matched are matched first and the total score decides among
those assignments (every edge gets the same bonus, larger than any total): the desk's choice, since an
unmatched job waits for its offer. The pruning above holds as well, the bonus not changing a row's order.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from .model import JobNeed
from .pool import Floats, Ints, Pool
from .score import ScoreWeights


@dataclass(frozen=True)
class Assignment:
    """Which worker each job gets (None: nobody eligible was left) and the total score."""

    workers: tuple[str | None, ...]  # by job, in the order the jobs were given
    scores: tuple[float | None, ...]
    total: float


def assign(pool: Pool, needs: list[JobNeed], weights: ScoreWeights) -> Assignment:
    """The assignment of jobs to free slots that maximises the total score."""
    return assign_scores(pool, pool.scores(needs, weights) if len(pool) else np.empty((len(needs), 0)))


def assign_scores(pool: Pool, scores: Floats, free: Ints | None = None, cover: bool = False) -> Assignment:
    """`assign` on a jobs x workers score matrix (-inf = may not accept); `free`: slots per worker
    (default the pool's; the desk subtracts the offers a worker already holds); `cover`: the most jobs
    matched first, then the best total."""
    jobs, width = scores.shape
    free = np.minimum(pool.free if free is None else np.maximum(free, 0), jobs)
    scores = np.where(free[None, :] > 0, scores, -np.inf)  # a worker with no slot left is no candidate
    if jobs == 0 or width == 0 or not np.isfinite(scores).any():
        return _result(pool, scores, [None] * jobs)
    chosen = _solve(scores + _bonus(scores) if cover else scores, free)
    return _result(pool, scores, chosen)


def _bonus(scores: Floats) -> float:
    """More than any total of scores: a matching with one more job always outweighs."""
    return float(scores.shape[0] * np.abs(scores[np.isfinite(scores)]).max() + 1.0)


def _solve(scores: Floats, free: Ints) -> list[int | None]:
    """The column (worker) each row (job) gets in a best total assignment within `free` slots."""
    jobs, width = scores.shape
    first = np.concatenate(([0], np.cumsum(free)[:-1]))  # each worker's first slot column
    top = min(jobs, width)
    best = (
        np.argpartition(-scores, top - 1, axis=1)[:, :top]
        if top < width
        else np.tile(np.arange(width), (jobs, 1))
    )
    ceiling = float(scores[np.isfinite(scores)].max()) + 1.0  # costs = ceiling - score > 0 (0 = no edge)
    rows, cols, costs = [], [], []
    for r in range(jobs):
        ws = best[r][np.isfinite(scores[r, best[r]])]
        ws = ws[np.argsort(-scores[r, ws], kind="stable")]
        ws = ws[: int(np.searchsorted(np.cumsum(free[ws]), jobs)) + 1]
        n = free[ws]
        offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        cols.append(np.repeat(first[ws], n) + offsets)
        costs.append(ceiling - np.repeat(scores[r, ws], n))
        rows.append(np.full(cols[-1].size, r))
    slots = int(free.sum())
    rows.append(np.arange(jobs))
    cols.append(slots + np.arange(jobs))  # "nobody" for job r, worth 0
    costs.append(np.full(jobs, ceiling))
    graph = csr_matrix((np.concatenate(costs), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(jobs, slots + jobs))  # fmt: skip
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph)
    owner = np.repeat(np.arange(width), free)
    chosen: list[int | None] = [None] * jobs
    for r, c in zip(matched_rows, matched_cols, strict=True):
        chosen[r] = int(owner[c]) if c < slots else None
    return chosen


def assign_dense(pool: Pool, scores: Floats, free: Ints | None = None) -> Assignment:
    """The same optimum with linear_sum_assignment over every free slot: the reference for small batches."""
    jobs = scores.shape[0]
    slots = pool.free if free is None else np.maximum(free, 0)
    owner = np.repeat(np.arange(scores.shape[1]), np.minimum(slots, jobs))
    if jobs == 0 or owner.size == 0:
        return _result(pool, scores, [None] * jobs)
    value = scores[:, owner]
    rows, cols = linear_sum_assignment(np.where(np.isfinite(value), value, 0.0), maximize=True)
    chosen: list[int | None] = [None] * jobs
    for r, c in zip(rows, cols, strict=True):
        chosen[r] = int(owner[c]) if np.isfinite(value[r, c]) else None
    return _result(pool, scores, chosen)


def greedy(pool: Pool, scores: Floats, free: Ints | None = None) -> Assignment:
    """Jobs in order, each taking its best worker with a free slot left: the baseline the batch must beat."""
    free = (pool.free if free is None else np.maximum(free, 0)).copy()
    chosen: list[int | None] = []
    for row in scores:
        open_row = np.where(free > 0, row, -np.inf)
        i = int(np.argmax(open_row)) if open_row.size else 0
        ok = open_row.size > 0 and bool(np.isfinite(open_row[i]))
        if ok:
            free[i] -= 1
        chosen.append(i if ok else None)
    return _result(pool, scores, chosen)


def _result(pool: Pool, scores: Floats, chosen: list[int | None]) -> Assignment:
    got = [None if i is None else float(scores[r, i]) for r, i in enumerate(chosen)]
    return Assignment(
        tuple(None if i is None else pool.workers[i].address for i in chosen), tuple(got),
        float(sum(s for s in got if s is not None)),
    )  # fmt: skip
