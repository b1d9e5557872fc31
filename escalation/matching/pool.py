"""The workers as numpy columns: hard constraints and soft scores for one job or a batch at once."""

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .eligibility import why_nobody
from .model import Candidate, JobNeed, Ranking, Signals, WorkerRecord
from .score import EXPERIENCE_FULL, ScoreWeights, hours_apart, parts, reasons

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]


# the registry's numbers, one numpy column each, in the order `_values` gives them
COLUMNS: dict[str, type] = {
    "languages": np.uint64, "expertise": np.uint64, "certifications": np.uint64, "capacity": np.int64,
    "active": np.int64, "available": np.bool_, "completed": np.float64, "missed": np.float64,
    "lost": np.float64,
}  # fmt: skip


def popcount(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Set bits of each uint64 (SWAR: numpy 1.26 has no bitwise_count)."""
    v = values - ((values >> np.uint64(1)) & np.uint64(0x5555555555555555))
    v = (v & np.uint64(0x3333333333333333)) + ((v >> np.uint64(2)) & np.uint64(0x3333333333333333))
    v = (v + (v >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (v * np.uint64(0x0101010101010101)) >> np.uint64(56)


class Pool:
    """Workers (any iterable of registry records) as columns, with their off-chain signals.

    `update` overwrites or appends records in place, so a cached pool follows the registry's events
    without being rebuilt; a worker who left (capacity 0) keeps a row that is never eligible.
    """

    languages: npt.NDArray[np.uint64]
    expertise: npt.NDArray[np.uint64]
    certifications: npt.NDArray[np.uint64]
    capacity: npt.NDArray[np.int64]
    active: npt.NDArray[np.int64]
    available: Bools
    completed: Floats
    missed: Floats
    lost: Floats

    def __init__(self, workers: Iterable[WorkerRecord], signals: Mapping[str, Signals] | None = None) -> None:
        self.workers: list[WorkerRecord] = []
        self.address: list[str] = []
        self.index: dict[str, int] = {}
        self.version: int | None = None  # the source's last change seq in it; None: built from records
        self.signals: dict[str, Signals] = {}
        self._given: dict[str, Signals] | None = None  # the signals as last given
        for name, dtype in COLUMNS.items():
            setattr(self, name, np.empty(0, dtype=dtype))
        self.free = np.empty(0, dtype=np.int64)
        self._order: npt.NDArray[np.intp] | None = None  # each worker's place in address order
        self.response, self.utc = np.empty(0), np.empty(0)
        self.resignal(signals or {})
        self.update(workers)

    def __len__(self) -> int:
        return len(self.workers)

    def update(self, records: Iterable[WorkerRecord]) -> None:
        """Overwrites the rows of known workers and appends the newly registered ones."""
        fresh: dict[str, WorkerRecord] = {}
        for w in records:
            address = w.address.lower()
            i = self.index.get(address)
            if i is not None:
                self.workers[i] = w
                for name, value in zip(COLUMNS, _values(w), strict=True):
                    getattr(self, name)[i] = value
            elif w.max_concurrent > 0:
                fresh[address] = w
            else:
                fresh.pop(address, None)
        if fresh:
            start, ws = len(self.workers), list(fresh.values())
            self.workers += ws
            self.address += fresh
            self.index |= {a: start + k for k, a in enumerate(fresh)}
            for name, column in _columns(ws).items():
                setattr(self, name, np.concatenate((getattr(self, name), column)))
            self._order = None
            got = [self.signals.get(a, Signals()) for a in fresh]
            self.response = np.concatenate((self.response, _response(got)))
            self.utc = np.concatenate((self.utc, _utc(got)))
        self.free = np.maximum(self.capacity - self.active, 0)

    def resignal(self, signals: Mapping[str, Signals]) -> None:
        """Replaces the off-chain signals (answer times, time zones); a no-op when they did not change."""
        if signals == self._given:
            return
        self._given = dict(signals)
        self.signals = {k.lower(): v for k, v in signals.items()}
        got = [self.signals.get(a, Signals()) for a in self.address]
        self.response, self.utc = _response(got), _utc(got)

    def free_of(self, address: str) -> int:
        """Free slots of the worker at `address` (0 when not in the pool)."""
        i = self.index.get(address.lower())
        return 0 if i is None else int(self.free[i])

    def ordered(self, row: Floats) -> npt.NDArray[np.intp]:
        """The workers with a finite score in `row`, best first, ties by address."""
        if self._order is None:
            self._order = np.argsort(np.argsort(np.array(self.address)))
        chosen = np.flatnonzero(np.isfinite(row))
        return chosen[np.lexsort((self._order[chosen], -row[chosen]))]

    def eligible(self, needs: list[JobNeed]) -> Bools:
        """jobs x workers: the escrow would let the worker accept the job (registry checks and offeredTo)."""
        lang = np.array([n.language if n.language < 64 else 0 for n in needs], dtype=np.uint64)[:, None]
        exp = np.array([n.expertise for n in needs], dtype=np.uint64)[:, None]
        cert = np.array([n.certifications for n in needs], dtype=np.uint64)[:, None]
        ok = ((self.languages[None, :] >> lang) & np.uint64(1)).astype(bool)
        ok &= np.array([n.language < 64 for n in needs], dtype=bool)[:, None]
        ok &= (self.expertise[None, :] & exp) == exp
        ok &= (self.certifications[None, :] & cert) == cert
        ok &= (self.available & (self.active < self.capacity))[None, :]
        for row, need in enumerate(needs):
            if need.offered_to is not None:
                only = self.index.get(need.offered_to.lower())
                keep = ok[row, only] if only is not None else False
                ok[row, :] = False
                if only is not None:
                    ok[row, only] = keep
        return ok

    def scores(self, needs: list[JobNeed], weights: ScoreWeights) -> Floats:
        """jobs x workers: the soft score, -inf where the worker may not accept the job."""
        w = weights
        exp = np.array([n.expertise for n in needs], dtype=np.uint64)[:, None]
        extra = popcount(self.expertise[None, :] & ~exp).astype(np.float64)
        fixed = (
            w.eligible
            + w.experience * np.minimum(np.log1p(self.completed) / np.log1p(EXPERIENCE_FULL), 1.0)
            + w.punctuality * (1 - self.missed / (self.completed + self.missed + 1))
            + w.disputes * (1 - self.lost / (self.completed + self.lost + 1))
            + w.load * (1 - self.active / np.maximum(self.capacity, 1))
            + w.response * np.where(np.isnan(self.response), w.response_unknown,
                                    1 - np.minimum(self.response / w.response_cap_s, 1))
        )  # fmt: skip
        total = fixed[None, :] + w.extra_expertise * np.minimum(extra, w.extra_cap) / w.extra_cap
        customer = np.array(
            [np.nan if n.customer_utc_offset_h is None else n.customer_utc_offset_h for n in needs]
        )
        gap = np.abs(customer[:, None] - self.utc[None, :]) % 24
        gap = np.minimum(gap, 24 - gap)
        total += np.nan_to_num(w.timezone * (1 - np.minimum(gap, 12) / 12), nan=0.0)
        return np.where(self.eligible(needs), total, -np.inf)

    def rank(self, need: JobNeed, weights: ScoreWeights, limit: int | None = 20) -> Ranking:
        """Eligible workers for one job, best first (ties by address), each with its reasons."""
        row = self.scores([need], weights)[0]
        order = self.ordered(row)
        if order.size == 0:
            return Ranking((), why_nobody(self.workers, need))
        if limit is not None:
            order = order[:limit]
        return Ranking(tuple(self.explain(int(i), need, weights, float(row[i])) for i in order))

    def explain(self, i: int, need: JobNeed, weights: ScoreWeights, score: float) -> Candidate:
        """Worker `i`'s candidacy for `need` with one reason per part of its score."""
        worker = self.workers[i]
        signal = self.signals.get(self.address[i], Signals())
        extra = bin(worker.expertise & ~need.expertise).count("1")
        apart = hours_apart(need.customer_utc_offset_h, signal.utc_offset_h)
        points = parts(weights, extra, worker.completed, worker.missed_deadlines, worker.disputes_lost,
                       worker.active_jobs, worker.max_concurrent, signal.response_s, apart)  # fmt: skip
        facts = {
            "eligible": f"speaks {need.language_code}, has the expertise and certifications, has a free slot",
            "extra_expertise": f"{extra} expertise bits beyond the job's",
            "experience": f"{worker.completed} jobs completed",
            "punctuality": f"{worker.missed_deadlines} deadlines missed",
            "disputes": f"{worker.disputes_lost} disputes lost",
            "load": f"{worker.active_jobs} of {worker.max_concurrent} slots in use",
            "response": "never offered a job" if signal.response_s is None
            else f"answers offers in {signal.response_s:.0f} s",
            "timezone": "time zone unknown" if apart is None else f"{apart:g} h from the customer",
        }  # fmt: skip
        return Candidate(worker.address, round(score, 6), reasons(weights, points, facts))


def _values(w: WorkerRecord) -> tuple[int | bool, ...]:
    """A record's numbers in COLUMNS' order."""
    return (w.languages % 2**64, w.expertise, w.certifications, w.max_concurrent, w.active_jobs,
            bool(w.available), w.completed, w.missed_deadlines, w.disputes_lost)  # fmt: skip


def _columns(ws: list[WorkerRecord]) -> dict[str, npt.NDArray[Any]]:
    """Records as COLUMNS, one comprehension per column (faster than transposing tuples)."""
    return {
        "languages": np.array([w.languages % 2**64 for w in ws], dtype=np.uint64),
        "expertise": np.array([w.expertise for w in ws], dtype=np.uint64),
        "certifications": np.array([w.certifications for w in ws], dtype=np.uint64),
        "capacity": np.array([w.max_concurrent for w in ws], dtype=np.int64),
        "active": np.array([w.active_jobs for w in ws], dtype=np.int64),
        "available": np.array([bool(w.available) for w in ws], dtype=np.bool_),
        "completed": np.array([w.completed for w in ws], dtype=np.float64),
        "missed": np.array([w.missed_deadlines for w in ws], dtype=np.float64),
        "lost": np.array([w.disputes_lost for w in ws], dtype=np.float64),
    }


def _response(got: list[Signals]) -> Floats:
    return np.array([np.nan if s.response_s is None else s.response_s for s in got], dtype=np.float64)


def _utc(got: list[Signals]) -> Floats:
    return np.array([np.nan if s.utc_offset_h is None else s.utc_offset_h for s in got], dtype=np.float64)
