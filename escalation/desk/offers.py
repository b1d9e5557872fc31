"""Offering an open job to the best worker, then the next after a timeout, relaxing the soft score when
nobody answers, and telling the agent at once when nobody eligible exists; every step recorded.

Restartable: the offers and their times are in the database and each pass re-ranks from the candidate
source (the indexer), so a worker who became busy or unavailable is never offered the job.
"""

import hashlib
import hmac
import json
import logging
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, select, update

from escalation.matching.model import Candidate, JobNeed, Signals
from escalation.matching.pool import Pool
from escalation.matching.score import ScoreWeights
from protocol_core.terms import ZERO_ADDRESS, JobTerms
from runtime.db import transaction

from .notices import SIGNATURE_HEADER, Notifier
from .requests import DeskStatus, EscalationRequest
from .tables import jobs, matches, offers

log = logging.getLogger(__name__)
CandidateSource = Callable[[JobNeed, Mapping[str, Signals]], Pool]  # e.g. matching.source.pool_from_indexer
NO_ELIGIBLE = "no_eligible"  # the notice the agent gets when nobody may take the job
NO_ANSWER = "no_answer"  # every eligible worker was offered the job and none took it


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

    def run_once(self) -> int:
        """Advances every job still being matched; returns how many offers were made."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(jobs, matches.c.state).outerjoin(matches, matches.c.desk_id == jobs.c.desk_id)
                .where(jobs.c.status.in_([DeskStatus.OPEN, DeskStatus.ACCEPTED]))
            ).all()  # fmt: skip
        with self.engine.connect() as db:
            pending = db.execute(select(offers.c.worker).where(offers.c.answer == "pending")).scalars().all()
        held = Counter(pending)  # open offers per worker: each may take one of its free slots
        made = 0
        for row in rows:
            if row.status == DeskStatus.ACCEPTED:
                if row.state not in (None, "accepted"):
                    self._accepted(row)
            elif row.state not in (NO_ELIGIBLE, "exhausted", "accepted"):
                made += self._advance(row, held)
        return made

    def history(self, desk_id: str) -> list[dict[str, Any]]:
        """Every offer of the job, oldest first, with its reasons."""
        with self.engine.connect() as db:
            found = db.execute(select(offers).where(offers.c.desk_id == desk_id).order_by(offers.c.id)).all()
        return [
            dict(r._mapping) | {"reasons": json.loads(r.reasons), "ranked": json.loads(r.ranked)}
            for r in found
        ]

    def _advance(self, row: Any, held: Counter[str]) -> int:
        now = self.clock()
        with self.engine.connect() as db:
            made = db.execute(select(offers).where(offers.c.desk_id == row.desk_id)).all()
        pending = [o for o in made if o.answer == "pending"]
        if pending and now - pending[-1].offered_at < self.config.timeout_s:
            return 0
        need = self._need(row)
        pool = self.source(need, self._signals())
        ranking = pool.rank(need, self.config.weights, limit=None)
        with transaction(self.engine) as db:
            for offer in pending:
                db.execute(
                    update(offers).where(offers.c.id == offer.id).values(answer="expired", answered_at=now)
                )
                held[offer.worker] -= 1
            if not ranking.candidates:
                self._set(db, row.desk_id, NO_ELIGIBLE, now, why=ranking.why)
                self.notifier.record(db, row.desk_id, NO_ELIGIBLE, ranking.why)
                return 0
            tried = {o.worker.lower() for o in made}
            fresh = [(r, c) for r, c in enumerate(ranking.candidates, 1) if c.address.lower() not in tried]
            strict = [(r, c) for r, c in fresh if c.score >= self.config.weights.min_score]
            relaxed = not strict
            if not fresh:
                self._set(db, row.desk_id, "exhausted", now)
                self.notifier.record(
                    db, row.desk_id, NO_ANSWER, f"{len(tried)} eligible workers offered, none took it"
                )
                return 0
            # A worker holds as many open offers as it has free slots, so that parallel jobs spread out.
            open_to = [
                (r, c)
                for r, c in (fresh if relaxed else strict)
                if held[c.address.lower()] < pool.free_of(c.address)
            ]
            if not open_to:
                self._set(db, row.desk_id, "waiting", now)
                return 0
            rank, chosen = open_to[0]
            held[chosen.address.lower()] += 1
            ranked = json.dumps([[c.address, c.score] for c in ranking.candidates])
            offer_id = db.execute(
                offers.insert().values(
                    desk_id=row.desk_id, worker=chosen.address.lower(), rank=rank, score=chosen.score,
                    reasons=json.dumps(chosen.reasons), ranked=ranked, relaxed=relaxed, offered_at=now,
                    answer="pending",
                )
            ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
            self._set(db, row.desk_id, "relaxed" if relaxed else "offering", now)
        self._hook(offer_id, row, chosen, now)
        return 1

    def _accepted(self, row: Any) -> None:
        """The job was taken: by the offered worker (its offer accepted) or by someone else eligible."""
        now, worker = self.clock(), (row.worker or "").lower()
        with transaction(self.engine) as db:
            db.execute(
                update(offers).where(offers.c.desk_id == row.desk_id)
                .where(offers.c.answer.in_(["pending", "expired"]))
                .where(offers.c.worker == worker).values(answer="accepted", answered_at=now)
            )  # fmt: skip
            db.execute(
                update(offers).where(offers.c.desk_id == row.desk_id).where(offers.c.answer == "pending")
                .values(answer="closed", answered_at=now)
            )  # fmt: skip
            self._set(db, row.desk_id, "accepted", now, accepted_by=worker)

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

    def _set(self, db: Connection, desk_id: str, state: str, now: float, **values: Any) -> None:
        changed = db.execute(
            update(matches).where(matches.c.desk_id == desk_id).values(state=state, updated_at=now, **values)
        ).rowcount
        if not changed:
            db.execute(matches.insert().values(desk_id=desk_id, state=state, updated_at=now, **values))

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
