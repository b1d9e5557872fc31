"""The duties anyone may perform, done when due and not done by others: draw (else recordSeed, or
executeRuling once an undrawable round lapsed), tally, executeRuling, payPanels, applyQueuedStakes and
deliverRuling after a failed delivery. Each candidate is dry-run; only what passes is sent."""

import logging
import time

from sqlalchemy import Engine, delete, select, update

from protocol_core.enums import RoundPhase
from runtime.db import transaction
from runtime.sender import Call, Sender

from .metrics import ArbitratorMetrics
from .pool import PoolReader, calldata
from .tables import deliveries, disputes, queued
from .votes import KeeperCall, Purpose, claim

log = logging.getLogger(__name__)
GAS_MARGIN = 100_000  # a draw's cost grows with the panel; the estimate is at the latest block
DELIVERY_RETRY_BLOCKS = 20  # blocks between two deliverRuling attempts of one dispute
# In order of preference; at most one call per dispute and pass (the next pass sees its effect).
_BY_PHASE = {
    RoundPhase.DRAWING: ("draw", "executeRuling", "recordSeed"),  # executeRuling: a round past drawBy
    RoundPhase.TALLY: ("tally",),
    RoundPhase.APPEALABLE: ("executeRuling",),  # refused (WrongPhase) until the appeal period is over
}
_DONE_BY_SOMEONE = {"payPanels": "AlreadyPaid", "deliverRuling": "AlreadyDelivered"}


class Keeper:
    """Advances every dispute of the pool that waits on anyone, with this daemon's key."""

    def __init__(self, engine: Engine, pool: PoolReader, sender: Sender, metrics: ArbitratorMetrics) -> None:
        self._engine, self._pool, self._sender, self._metrics = engine, pool, sender, metrics
        self._delivery_tried: dict[int, int] = {}  # dispute -> head when deliverRuling was last sent

    def run(self, head: int) -> int:
        """Sends the due calls that pass a dry run; returns how many were sent."""
        with self._engine.connect() as db:
            open_ = db.execute(
                select(disputes)
                .where(disputes.c.final.is_(False) | disputes.c.deferred)
                .order_by(disputes.c.dispute_id)  # rounds are drawn in the order they asked for randomness
            ).all()
            waiting = [row.arbitrator for row in db.execute(select(queued)).all()]
            undelivered = db.execute(select(deliveries).where(deliveries.c.failed)).all()
        candidates: list[KeeperCall] = []
        for row, phase in zip(open_, self._pool.phases([r.dispute_id for r in open_]), strict=True):
            if phase is RoundPhase.FINAL and row.deferred:
                candidates.append(KeeperCall(row.dispute_id, "payPanels"))
            candidates.extend(KeeperCall(row.dispute_id, action) for action in _BY_PHASE.get(phase, ()))
        for row in undelivered:
            tried = self._delivery_tried.get(row.dispute_id)
            if tried is not None and head - tried < DELIVERY_RETRY_BLOCKS:
                continue
            if self._pool.accepts_ruling(row.arbitrable, row.dispute_id, row.ruling):
                candidates.append(KeeperCall(row.dispute_id, "deliverRuling"))
        data = [calldata(c.action, c.dispute_id) for c in candidates]
        if waiting:
            candidates.append(KeeperCall(0, "applyQueuedStakes"))
            data.append(calldata("applyQueuedStakes", waiting))
        answers = self._pool.dry_runs(self._sender.address, data)
        calls: list[Call[Purpose]] = []
        chosen: set[int] = set()
        for call, payload, answer in zip(candidates, data, answers, strict=True):
            if answer == _DONE_BY_SOMEONE.get(call.action):
                self._done(call)  # by us or anyone: never dry-run it again
            if not isinstance(answer, int) or call.dispute_id in chosen:
                continue  # not due, or this dispute has its call for this pass
            if call.dispute_id:
                chosen.add(call.dispute_id)
            calls.append(Call(self._pool.address, payload, answer + GAS_MARGIN, call, time.time()))
        sent = self._sender.send(calls, head, claim)
        for done in sent:
            purpose = done.purpose
            assert isinstance(purpose, KeeperCall)
            self._metrics.keeper_calls.labels(purpose.action).inc()
            log.info("keeper: %s sent", purpose.action, extra={"dispute_id": purpose.dispute_id})
            if purpose.action == "applyQueuedStakes":
                with transaction(self._engine) as db:
                    db.execute(delete(queued).where(queued.c.arbitrator.in_(waiting)))
            elif purpose.action == "deliverRuling":
                self._delivery_tried[purpose.dispute_id] = head
        return len(sent)

    def _done(self, call: KeeperCall) -> None:
        paid = call.action == "payPanels"
        table, done = (disputes, {"deferred": False}) if paid else (deliveries, {"failed": False})
        with transaction(self._engine) as db:
            db.execute(update(table).where(table.c.dispute_id == call.dispute_id).values(done))
