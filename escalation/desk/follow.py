"""Following the desk's jobs to their end: escrow and pool logs mark jobs to re-read, the chain is re-read,
and what time decides (expiry) is settled; accepted jobs get their sealed context, drawn arbitrators
their case file, and the agent its notices.

Reorg-safe by the runtime's cursor; restartable because every step starts from the database and
the chain, never from memory.
"""

import logging
import time
from dataclasses import dataclass

from eth_abi import decode
from sqlalchemy import Connection, Engine, delete, exists, select, update

from protocol_core.abi import abi
from protocol_core.enums import JobStatus
from protocol_core.terms import JobTerms
from runtime.abi import event_topic
from runtime.chain import Log
from runtime.cursor import LogCursor
from runtime.db import transaction
from runtime.sender import Call
from runtime.tracking import Tracker

from .contracts import needs_chain
from .desk import Desk
from .errors import DeskError
from .handoff import Handoff
from .learning_feed import LearningFeed
from .notices import Notifier
from .offers import Offers
from .permits import release_permit_nonces
from .requests import DeskStatus
from .tables import calls, jobs, published, seals

log = logging.getLogger(__name__)
ESCROW_EVENTS = ("JobPosted", "JobAccepted", "EvidenceSubmitted", "VerdictRecorded", "WorkerPaid",
                 "AgentRefunded", "JobDisputed", "DisputeSettled", "JobAppealed")  # fmt: skip
ESCROW_TOPICS = tuple(event_topic(abi("JobEscrow"), name) for name in ESCROW_EVENTS)
DRAWN = event_topic(abi("ArbitrationPool"), "Drawn")
EVIDENCE_SUBMITTED = event_topic(abi("JobEscrow"), "EvidenceSubmitted")
RETRY_S = 3.0  # seconds between retries of handoffs that failed (the store down, a key not registered yet)
SETTLEABLE = (JobStatus.OPEN, JobStatus.ACCEPTED, JobStatus.SUBMITTED, JobStatus.APPROVED, JobStatus.REJECTED)


@dataclass(frozen=True)
class Touched:
    """A log that concerns a job (by job id) or a dispute's panel (by dispute id and arbitrator)."""

    job_id: str | None
    dispute_id: int | None = None
    arbitrator: str | None = None
    evidence: tuple[str, str] | None = None  # EvidenceSubmitted: (evidence hash, URI), for the case files


class DeskLogs:
    """The cursor's handler: marks the desk's jobs an event touched as dirty (a runtime LogHandler)."""

    def decode(self, log: Log) -> Touched:
        """Which job or dispute the log is about (the cursor reads only the escrow's and the pool's logs),
        and where the worker's evidence is (the case files carry it)."""
        if log.topics[0] == DRAWN:
            return Touched(None, int(log.topics[1], 16), "0x" + log.topics[2][-40:])
        if log.topics[0] == EVIDENCE_SUBMITTED:
            evidence_hash, uri = decode(["bytes32", "string"], log.data)
            return Touched(log.topics[1].lower(), evidence=("0x" + evidence_hash.hex(), uri))
        return Touched(log.topics[1].lower())

    def ingest(self, db: Connection, events: list[Touched]) -> int:
        """Flags the touched jobs of this desk; returns how many were."""
        touched = 0
        for event in events:
            if event.job_id is not None:
                found = dict(zip(("evidence_hash", "evidence_uri"), event.evidence or (), strict=False))
                result = db.execute(
                    update(jobs).where(jobs.c.job_id == event.job_id).values(dirty=True, **found)
                )
            else:
                result = db.execute(
                    update(jobs).where(jobs.c.dispute_id == event.dispute_id).values(dirty=True)
                )
            touched += result.rowcount
        return touched

    def orphaned(self, db: Connection, after: int) -> None:
        """A reorg: every unfinished job is re-read from the chain."""
        final = [s.value for s in DeskStatus if s.final]
        db.execute(update(jobs).where(jobs.c.status.not_in(final)).values(dirty=True))


class DeskHooks:
    """The tracker's hooks: a post that reverts marks its escalation failed."""

    def mined(self, db: Connection, nonce: int, tx_hash: str, succeeded: bool) -> None:
        row = db.execute(select(calls).where(calls.c.nonce == nonce)).first()
        db.execute(update(calls).where(calls.c.nonce == nonce).values(succeeded=succeeded))
        if row is not None and row.action == "post" and not succeeded:
            db.execute(update(jobs).where(jobs.c.desk_id == row.desk_id).values(status=DeskStatus.FAILED))
            release_permit_nonces(db)
        if row is not None and row.action == "settle" and not succeeded:
            db.execute(update(jobs).where(jobs.c.desk_id == row.desk_id).values(settle_nonce=None))
        if row is not None and row.action == "case_files" and not succeeded:
            db.execute(delete(published).where(published.c.nonce == nonce))
            db.execute(update(jobs).where(jobs.c.desk_id == row.desk_id).values(dirty=True))  # named again

    def dropped(self, db: Connection, nonce: int) -> None:
        db.execute(update(calls).where(calls.c.nonce == nonce).values(succeeded=None))

    def confirmed(self, db: Connection, nonce: int, succeeded: bool) -> None:
        return None

    def abandoned(self, db: Connection, nonce: int, detail: str) -> None:
        log.error("desk transaction %d abandoned: %s", nonce, detail)
        row = db.execute(select(calls).where(calls.c.nonce == nonce)).first()
        if row is not None and row.action == "case_files":  # it never landed: name them again
            db.execute(delete(published).where(published.c.nonce == nonce))
            db.execute(update(jobs).where(jobs.c.desk_id == row.desk_id).values(dirty=True))


class Follower:
    """One pass: logs, receipts, re-reads of touched jobs, settlement of expired ones, handoffs, notices."""

    def __init__(
        self,
        desk: Desk,
        cursor: LogCursor[Touched],
        tracker: Tracker,
        handoff: Handoff,
        notifier: Notifier,
        offers: Offers | None = None,
        learning: LearningFeed | None = None,
    ) -> None:
        self.desk, self.cursor, self.tracker = desk, cursor, tracker
        self.handoff, self.notifier, self.offers, self.learning = handoff, notifier, offers, learning
        self._head = 0  # the head of the current pass
        self._next_retry = 0.0  # monotonic time of the next retry of failed handoffs
        self._failed: set[str] | None = None  # panel handoffs to retry; None: at start, every disputed job

    @property
    def engine(self) -> Engine:
        return self.desk.engine

    @needs_chain
    def run_once(self) -> int:
        """Does one pass; returns how many jobs changed. ChainUnavailable propagates (retry later)."""
        head = self._head = self.desk.contracts.chain.head()
        self.cursor.poll(head)
        self.tracker.tick(head)
        changed = self._refresh()
        self._retry_handoffs()
        if self.offers is not None:  # after the refresh: offers go to open jobs, acceptances are seen
            self.offers.run_once()
        self._settle_expired()
        self.notifier.deliver()
        if self.learning is not None:  # last: the learning log never holds up money or notices
            self.learning.run_once(head)
        return changed

    def _refresh(self) -> int:
        with self.engine.connect() as db:
            rows = db.execute(select(jobs).where(jobs.c.dirty.is_(True))).all()
        for row in rows:
            state = self.desk.contracts.escrow.job_state(bytes.fromhex(row.job_id[2:]))
            status = DeskStatus.of(state.status) if state.status != JobStatus.NONE else DeskStatus(row.status)
            worker = state.worker if int(state.worker, 16) else row.worker
            dispute_id = row.dispute_id
            if status == DeskStatus.DISPUTED and not dispute_id:
                dispute_id = self.desk.contracts.escrow.dispute_of(bytes.fromhex(row.job_id[2:])).dispute_id
            with transaction(self.engine) as db:
                db.execute(
                    update(jobs).where(jobs.c.desk_id == row.desk_id)
                    .values(status=status, worker=worker, deadline=state.deadline, dispute_id=dispute_id,
                            dirty=False)
                )  # fmt: skip
                if status != row.status:
                    self.notifier.record(db, row.desk_id, status)
            if status in (DeskStatus.ACCEPTED, DeskStatus.SUBMITTED) and worker:
                self._hand_off(row.desk_id, lambda r=row, w=worker: self.handoff.to_worker(r.desk_id, w))
            if status == DeskStatus.DISPUTED and dispute_id:
                self._hand_off(row.desk_id, lambda r=row, d=dispute_id: self.handoff.to_panel(r.desk_id, d))
                self._hand_off(row.desk_id, lambda r=row: self.handoff.publish(r.desk_id, self.desk.sender,
                                                                                 self._head))  # fmt: skip
        return len(rows)

    def _hand_off(self, desk_id: str, step: object) -> None:
        try:
            step()  # type: ignore[operator]
        except DeskError as error:  # a worker without a usable key, a store down: retried after RETRY_S
            log.warning("handoff not done: %s", error)
            if self._failed is not None:
                self._failed.add(desk_id)

    def _retry_handoffs(self) -> None:
        """Every RETRY_S, marks for a re-read the jobs whose handoff is still due: an accepted job whose
        worker has no sealed copy (found in the database, so a restart loses none), and the disputes
        whose case files failed (after a start: every disputed job, since memory was lost)."""
        now = time.monotonic()
        if now < self._next_retry:
            return
        self._next_retry = now + RETRY_S
        sealed = exists().where(seals.c.desk_id == jobs.c.desk_id).where(seals.c.reader == jobs.c.worker)
        due = (jobs.c.status.in_([DeskStatus.ACCEPTED, DeskStatus.SUBMITTED]) & jobs.c.worker.is_not(None)
               & ~sealed)  # fmt: skip
        if self._failed is None:
            due = due | (jobs.c.status == DeskStatus.DISPUTED)
        elif self._failed:
            due = due | jobs.c.desk_id.in_(self._failed)
        with transaction(self.engine) as db:
            db.execute(update(jobs).where(due).where(jobs.c.dirty.is_(False)).values(dirty=True))
        self._failed = set()

    def _settle_expired(self) -> None:
        """Anyone may settle what time decided, and a ruled dispute; the desk does it for its own jobs."""
        latest = self.desk.contracts.chain.block("latest")
        if latest is None:
            return
        open_statuses = [DeskStatus.of(s) for s in SETTLEABLE]
        with self.engine.connect() as db:
            rows = db.execute(
                select(jobs).where(jobs.c.settle_nonce.is_(None)).where(
                    (jobs.c.status.in_(open_statuses) & (jobs.c.deadline < latest.timestamp))
                    | (jobs.c.status == DeskStatus.DISPUTED)
                )
            ).all()  # fmt: skip
        for row in rows:
            if (
                row.status == DeskStatus.DISPUTED
                and (row.deadline or 0) >= latest.timestamp
                and not (self.desk.contracts.escrow.dispute_of(bytes.fromhex(row.job_id[2:])).ruled)
            ):
                continue  # a dispute is settled once ruled (or after its timeout)
            call = self.desk.contracts.escrow.settle(JobTerms.model_validate_json(row.terms))
            (result,) = self.desk.contracts.chain.dry_runs(self.desk.agent.address, call.to, [call.data], {})
            if isinstance(result, str):
                continue  # not yet settleable (a challenge window, a verification still due)

            def claim(
                db: Connection, purpose: tuple[str, str], nonce: int, desk_id: str = row.desk_id
            ) -> bool:
                db.execute(calls.insert().values(nonce=nonce, desk_id=desk_id, action="settle"))
                db.execute(update(jobs).where(jobs.c.desk_id == desk_id).values(settle_nonce=nonce))
                return True

            self.desk.sender.send([Call(call.to, call.data, int(result * 1.25), (row.desk_id, "settle"))],
                                  latest.number, claim)  # fmt: skip
