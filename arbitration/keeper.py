"""The duties anyone may perform, done when due and not done by others: draw (or recordSeed), tally,
executeRuling, payPanels, applyQueuedStakes. Each candidate is dry-run; only what passes is sent."""

import logging
import time

from sqlalchemy import Engine, delete, select, update

from protocol_core.enums import RoundPhase
from runtime.db import transaction
from runtime.sender import Call, Sender

from .metrics import ArbitratorMetrics
from .pool import PoolReader, calldata
from .tables import disputes, queued
from .votes import KeeperCall, Purpose, claim

log = logging.getLogger(__name__)
GAS_MARGIN = 100_000  # a draw's cost grows with the panel; the estimate is at the latest block
_BY_PHASE = {
    RoundPhase.DRAWING: ("draw", "recordSeed"),  # the draw when it can, else keep the seed from expiring
    RoundPhase.TALLY: ("tally",),
    RoundPhase.APPEALABLE: ("executeRuling",),  # refused (WrongPhase) until the appeal period is over
}


class Keeper:
    """Advances every dispute of the pool that waits on anyone, with this daemon's key."""

    def __init__(self, engine: Engine, pool: PoolReader, sender: Sender, metrics: ArbitratorMetrics) -> None:
        self._engine, self._pool, self._sender, self._metrics = engine, pool, sender, metrics

    def run(self, head: int) -> int:
        """Sends the due calls that pass a dry run; returns how many were sent."""
        with self._engine.connect() as db:
            open_ = db.execute(
                select(disputes).where(disputes.c.final.is_(False) | disputes.c.deferred)
            ).all()
            waiting = [row.arbitrator for row in db.execute(select(queued)).all()]
        candidates: list[KeeperCall] = []
        for row in open_:
            phase = self._pool.phase(row.dispute_id)
            if phase is RoundPhase.FINAL and row.deferred:
                candidates.append(KeeperCall(row.dispute_id, "payPanels"))
            for action in _BY_PHASE.get(phase, ()):
                candidates.append(KeeperCall(row.dispute_id, action))
        data = [calldata(c.action, c.dispute_id) for c in candidates]
        if waiting:
            candidates.append(KeeperCall(0, "applyQueuedStakes"))
            data.append(calldata("applyQueuedStakes", waiting))
        answers = self._pool.dry_runs(self._sender.address, data)
        calls: list[Call[Purpose]] = []
        drawn: set[int] = set()
        for call, payload, answer in zip(candidates, data, answers, strict=True):
            if call.action == "payPanels" and answer == "AlreadyPaid":
                self._paid(call.dispute_id)  # by us or anyone: never dry-run it again
            if not isinstance(answer, int) or call.dispute_id in drawn:
                continue  # not due, or done by someone else already
            if call.action == "draw":
                drawn.add(call.dispute_id)  # a draw records the seed itself
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
        return len(sent)

    def _paid(self, dispute_id: int) -> None:
        with transaction(self._engine) as db:
            db.execute(update(disputes).where(disputes.c.dispute_id == dispute_id).values(deferred=False))
