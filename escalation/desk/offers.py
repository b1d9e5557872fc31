"""Offering open jobs to workers: the jobs due an offer in a pass are assigned together (the batch
assignment over the workers' free slots), a job goes to its next best after a timeout, the soft score
relaxes when nobody above the bar is left, the agent is told at once when nobody eligible exists, and
such a job is matched again when the workers change; every step recorded.

Restartable: the offers and their times are in the database and each pass scores from the candidate
source (the indexer), so a worker who became busy or unavailable is never offered the job.
"""

import hashlib
import hmac
import json
import logging
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from sqlalchemy import Connection, Engine, or_, select, update

from escalation.matching.assign import assign_scores
from escalation.matching.eligibility import why_nobody
from escalation.matching.model import Candidate, JobNeed, Signals
from escalation.matching.pool import Floats, Ints, Pool
from escalation.matching.score import ScoreWeights
from protocol_core.terms import ZERO_ADDRESS, JobTerms
from runtime.db import transaction

from .notices import SIGNATURE_HEADER, Notifier
from .requests import DeskStatus, EscalationRequest
from .tables import jobs, matches, offers

log = logging.getLogger(__name__)
# Every registered worker as the indexer last saw them, with the desk's signals: matching.source.LivePool.pool
CandidateSource = Callable[[Mapping[str, Signals]], Pool]
NO_ELIGIBLE = "no_eligible"  # the notice the agent gets when nobody may take the job
NO_ANSWER = "no_answer"  # every eligible worker was offered the job and none took it
MATCHING = "matching"  # a job nobody could take (or nobody answered) has a new candidate: offers resume
EXHAUSTED = "exhausted"
PARKED = (NO_ELIGIBLE, EXHAUSTED)  # looked at again only when the pool changed
ENDED = ("accepted", "closed")  # a job no longer open whose offers are settled
RANKED_KEPT = 50  # the head of the ranking stored with each offer
BATCH_JOBS = 256  # jobs assigned together at most (the rest of a pass's due jobs in further batches)


@dataclass(frozen=True)
class OfferConfig:
    """How offers go out: the wait per offer, the score, the workers' tools and time zones."""

    timeout_s: float = 30.0  # an offer not accepted within this goes to the next best
    weights: ScoreWeights = field(default_factory=ScoreWeights)  # weights.min_score: the strict round's bar
    hooks: Mapping[str, str] = field(default_factory=dict)  # worker address -> its tool's webhook URL
    utc_offsets: Mapping[str, float] = field(
        default_factory=dict
    )  # worker address -> UTC offset, where known
    hook_timeout_s: float = 5.0


class Offers:
    """One pass over the desk's open jobs: offers, timeouts, fallbacks, acceptances."""

    def __init__(self, engine: Engine, source: CandidateSource, config: OfferConfig, notifier: Notifier,
                 secret: str, clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.engine, self.source, self.config, self.notifier = engine, source, config, notifier
        self._secret, self.clock = secret.encode(), clock
        self._parked_at: int | None = None  # the pool version parked jobs were last matched against

    def run_once(self) -> int:
        """Advances every job still being matched; returns how many offers were made."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(jobs, matches.c.state).outerjoin(matches, matches.c.desk_id == jobs.c.desk_id)
                .where(or_(jobs.c.status == DeskStatus.OPEN, matches.c.state.not_in(ENDED)))
                .order_by(jobs.c.created_at)
            ).all()  # fmt: skip
            pending = db.execute(select(offers).where(offers.c.answer == "pending")).all()
        held = Counter(o.worker for o in pending)  # open offers per worker: each holds one free slot
        by_job: dict[str, list[Any]] = defaultdict(list)
        for offer in pending:
            by_job[offer.desk_id].append(offer)
        now = self.clock()
        due, parked = [], []
        for row in rows:
            if row.status != DeskStatus.OPEN:  # taken, or refunded before anyone took it
                held.subtract(o.worker for o in by_job[row.desk_id])
                self._ended(row)
            elif row.state in PARKED:
                parked.append(row)
            elif not any(now - o.offered_at < self.config.timeout_s for o in by_job[row.desk_id]):
                due.append(row)  # also a job a reorg reopened after it was taken
        if not due and not parked:
            return 0
        pool = self.source(self._signals())
        if parked and (pool.version is None or pool.version != self._parked_at):
            due += parked  # a worker registered, became available or finished a job since
        self._parked_at = pool.version
        for row in due:
            held.subtract(o.worker for o in by_job[row.desk_id])  # these offers expire now
        taken = np.zeros(len(pool), dtype=np.int64)  # slots held by other jobs' open offers
        for address, count in held.items():
            if address in pool.index:
                taken[pool.index[address]] += count
        # Oldest first, BATCH_JOBS at a time: a jobs x workers matrix per batch bounds the memory.
        return sum(self._offer(due[k : k + BATCH_JOBS], pool, taken, by_job, now)
                   for k in range(0, len(due), BATCH_JOBS))  # fmt: skip

    def history(self, desk_id: str) -> list[dict[str, Any]]:
        """Every offer of the job, oldest first, with its reasons."""
        with self.engine.connect() as db:
            found = db.execute(select(offers).where(offers.c.desk_id == desk_id).order_by(offers.c.id)).all()
        return [
            dict(r._mapping) | {"reasons": json.loads(r.reasons), "ranked": json.loads(r.ranked)}
            for r in found
        ]

    def _offer(self, due: list[Any], pool: Pool, taken: Ints, pending: dict[str, list[Any]],
               now: float) -> int:  # fmt: skip
        """Expires the due jobs' open offers and offers each job a worker, all jobs assigned at once;
        adds the slots its offers take to `taken`."""
        weights = self.config.weights
        needs = [self._need(row) for row in due]
        scores = pool.scores(needs, weights) if len(pool) else np.empty((len(due), 0))
        with self.engine.connect() as db:
            made = db.execute(
                select(offers.c.desk_id, offers.c.worker)
                .where(offers.c.desk_id.in_([r.desk_id for r in due]))
            ).all()  # fmt: skip
        tried: dict[str, set[str]] = defaultdict(set)
        for desk_id, worker in made:
            tried[desk_id].add(worker)
        allowed = np.full(scores.shape, -np.inf)
        relaxed: dict[int, bool] = {}
        for j, row in enumerate(due):
            fresh = np.isfinite(scores[j])
            fresh[[pool.index[a] for a in tried[row.desk_id] if a in pool.index]] = False
            strict = fresh & (scores[j] >= weights.min_score)
            if fresh.any():
                relaxed[j] = not strict.any()
                allowed[j] = np.where(fresh if relaxed[j] else strict, scores[j], -np.inf)
        chosen = assign_scores(pool, allowed, pool.free - taken, cover=True).workers
        hooks: list[tuple[int, Any, Candidate]] = []
        with transaction(self.engine) as db:
            expired = [o.id for row in due for o in pending[row.desk_id]]
            if expired:
                db.execute(
                    update(offers).where(offers.c.id.in_(expired)).values(answer="expired", answered_at=now)
                )
            for j, row in enumerate(due):
                eligible = int(np.isfinite(scores[j]).sum())
                if not eligible:
                    self._park(db, row, NO_ELIGIBLE, now, why_nobody(pool.workers, needs[j]))
                elif j not in relaxed:
                    offered = len(tried[row.desk_id])
                    self._park(db, row, EXHAUSTED, now, f"{offered} eligible workers offered, none took it")
                elif chosen[j] is None:  # every candidate's free slots hold other jobs' offers
                    self._set(db, row, "waiting", now, eligible)
                else:
                    i = pool.index[chosen[j].lower()]  # type: ignore[union-attr]
                    taken[i] += 1
                    hooks.append(self._record(db, row, pool, needs[j], scores[j], i, relaxed[j], now))
                    self._set(db, row, "relaxed" if relaxed[j] else "offering", now, eligible)
        for offer_id, row, candidate in hooks:
            self._hook(offer_id, row, candidate, now)
        return len(hooks)

    def _record(self, db: Connection, row: Any, pool: Pool, need: JobNeed, scores: Floats, i: int,
                relaxed: bool, now: float) -> tuple[int, Any, Candidate]:  # fmt: skip
        """Stores the offer of `row` to worker `i`, with its reasons and the head of the ranking."""
        order = pool.ordered(scores)
        candidate = pool.explain(i, need, self.config.weights, float(scores[i]))
        ranked = [[pool.workers[k].address, round(float(scores[k]), 6)] for k in order[:RANKED_KEPT]]
        offer_id = db.execute(
            offers.insert().values(
                desk_id=row.desk_id, worker=candidate.address.lower(),
                rank=int(np.flatnonzero(order == i)[0]) + 1, score=candidate.score,
                reasons=json.dumps(candidate.reasons), ranked=json.dumps(ranked), relaxed=relaxed,
                offered_at=now, answer="pending",
            )
        ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
        return offer_id, row, candidate

    def _park(self, db: Connection, row: Any, state: str, now: float, why: str) -> None:
        """Nobody eligible, or every eligible worker already offered: the agent hears it once."""
        if row.state == state:
            db.execute(update(matches).where(matches.c.desk_id == row.desk_id).values(why=why))
            return
        self._set(db, row, state, now, why=why)
        self.notifier.record(db, row.desk_id, NO_ELIGIBLE if state == NO_ELIGIBLE else NO_ANSWER, why)

    def _ended(self, row: Any) -> None:
        """The job left `open`: taken by the offered worker (its offer accepted) or by someone else
        eligible, or refunded untaken (cancelled, expired); open offers close and free their slots."""
        now, worker = self.clock(), (row.worker or "").lower()
        with transaction(self.engine) as db:
            if worker:
                db.execute(
                    update(offers).where(offers.c.desk_id == row.desk_id)
                    .where(offers.c.answer.in_(["pending", "expired"]))
                    .where(offers.c.worker == worker).values(answer="accepted", answered_at=now)
                )  # fmt: skip
            db.execute(
                update(offers).where(offers.c.desk_id == row.desk_id).where(offers.c.answer == "pending")
                .values(answer="closed", answered_at=now)
            )  # fmt: skip
            if worker:
                self._set(db, row, "accepted", now, accepted_by=worker)
            else:
                self._set(db, row, "closed", now)

    def _need(self, row: Any) -> JobNeed:
        terms = JobTerms.model_validate_json(row.terms)
        request = EscalationRequest.model_validate_json(row.request)
        req = terms.requirements
        offered = None if terms.offered_to == ZERO_ADDRESS else terms.offered_to
        return JobNeed(
            req.language, req.expertise, req.certifications, offered, request.customer_utc_offset_h
        )

    def _signals(self) -> dict[str, Signals]:
        """Median answer time over each worker's last 20 accepted offers; time zones from the config."""
        with self.engine.connect() as db:
            answered = db.execute(
                select(offers.c.worker, offers.c.offered_at, offers.c.answered_at)
                .where(offers.c.answer == "accepted").order_by(offers.c.id.desc()).limit(5_000)
            ).all()  # fmt: skip
        times: dict[str, list[float]] = {}
        for worker, offered_at, answered_at in answered:
            if len(times.setdefault(worker, [])) < 20:
                times[worker].append(answered_at - offered_at)
        zones = {a.lower(): z for a, z in self.config.utc_offsets.items()}
        return {
            a: Signals(statistics.median(times[a]) if a in times else None, zones.get(a))
            for a in set(times) | set(zones)
        }

    def _set(self, db: Connection, row: Any, state: str, now: float, eligible: int | None = None,
             **values: Any) -> None:  # fmt: skip
        """The job's match state; back to offering (or waiting) after parked, the agent hears it."""
        if row.state in PARKED and eligible is not None:
            self.notifier.record(db, row.desk_id, MATCHING, f"eligible workers now: {eligible}")
        changed = db.execute(
            update(matches).where(matches.c.desk_id == row.desk_id)
            .values(state=state, updated_at=now, **values)
        ).rowcount  # fmt: skip
        if not changed:
            db.execute(matches.insert().values(desk_id=row.desk_id, state=state, updated_at=now, **values))

    def _hook(self, offer_id: int, row: Any, chosen: Candidate, now: float) -> None:
        """Tells the worker's tool, when it has one; the offer stands whether or not the call arrives."""
        url = {a.lower(): u for a, u in self.config.hooks.items()}.get(chosen.address.lower())
        if url is None:
            return
        body = json.dumps(
            {"desk_id": row.desk_id, "job_id": row.job_id, "terms": json.loads(row.terms),
             "score": chosen.score, "reasons": list(chosen.reasons),
             "answer_by": now + self.config.timeout_s},
            sort_keys=True,
        ).encode()  # fmt: skip
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        try:
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
            response = httpx.post(url, content=body, timeout=self.config.hook_timeout_s, headers=headers)
            delivered = response.status_code < 300
        except httpx.HTTPError as error:
            log.warning("offer hook %s failed: %s", url, error)
            delivered = False
        with transaction(self.engine) as db:
            db.execute(update(offers).where(offers.c.id == offer_id).values(hook_delivered=delivered))
