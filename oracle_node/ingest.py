"""The node's side of the log cursor: job terms and submissions in, evidence of dropped blocks out."""

import logging
import time

from sqlalchemy import Connection, select, update

from runtime.chain import Log
from runtime.db import insert_ignore

from .events import EscrowEvent, Posted, Submitted, decode
from .metrics import NodeMetrics
from .store import EvidenceState, evidence, jobs

log = logging.getLogger(__name__)


class EscrowLogs:
    """Turns the escrow's logs into job terms and work items (a runtime LogHandler)."""

    def __init__(self, metrics: NodeMetrics) -> None:
        self._metrics = metrics

    def decode(self, log: Log) -> EscrowEvent:
        """The JobPosted or EvidenceSubmitted event in `log`."""
        return decode(log)

    def ingest(self, db: Connection, events: list[EscrowEvent]) -> int:
        """Keeps terms whose hash is their job id and records each submission; returns the submissions."""
        now = time.time()
        submitted = 0
        for entry in events:
            if isinstance(entry, Posted):
                if "0x" + entry.terms.digest().hex() == entry.job_id:  # the id is the terms' hash
                    insert_ignore(db, jobs, job_id=entry.job_id, terms=entry.terms.model_dump_json())
                continue
            if _record_submission(db, entry, now):  # one submission counted once, however often re-read
                self._metrics.events_seen.labels(event="EvidenceSubmitted").inc()
            submitted += 1
        return submitted

    def orphaned(self, db: Connection, after: int) -> None:
        """Evidence from blocks above `after` that is not yet decided waits to be seen again."""
        db.execute(
            update(evidence)
            .where(evidence.c.block_number > after)
            .where(evidence.c.state.in_([EvidenceState.SEEN, EvidenceState.VERIFYING, EvidenceState.DECIDED]))
            .values(state=EvidenceState.ORPHANED)
        )


def _record_submission(db: Connection, entry: Submitted, now: float) -> bool:
    """A new work item (True), or the same (job, hash) seen again in another block (a re-submission)."""
    existing = db.execute(
        select(evidence.c.id, evidence.c.state)
        .where(evidence.c.job_id == entry.job_id)
        .where(evidence.c.evidence_hash == entry.evidence_hash)
    ).first()
    placed = dict(uri=entry.uri, block_number=entry.block_number, block_hash=entry.block_hash)
    if existing is None:
        db.execute(
            evidence.insert().values(
                job_id=entry.job_id,
                evidence_hash=entry.evidence_hash,
                state=EvidenceState.SEEN,
                attempts=0,
                retry_at=0.0,
                seen_at=now,
                **placed,
            )
        )
        return True
    state = (
        EvidenceState.SEEN
        if existing.state in (EvidenceState.ORPHANED, EvidenceState.SKIPPED)
        else existing.state
    )
    db.execute(update(evidence).where(evidence.c.id == existing.id).values(state=state, **placed))
    log.info("evidence seen again", extra={"job_id": entry.job_id, "block": entry.block_number})
    return False
