"""The node's side of the log cursor: job terms and submissions in, evidence of dropped blocks out."""

import logging
import time
from typing import Any

from sqlalchemy import Connection, insert, select, update

from runtime.chain import Log
from runtime.db import insert_ignore_many

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
        posted = [
            dict(job_id=entry.job_id, terms=entry.terms.model_dump_json())
            for entry in events
            if isinstance(entry, Posted) and "0x" + entry.terms.digest().hex() == entry.job_id  # its hash
        ]
        insert_ignore_many(db, jobs, posted)
        submissions = [entry for entry in events if isinstance(entry, Submitted)]
        known = _known(db, submissions)
        new: dict[tuple[str, str], dict[str, Any]] = {}  # inserted in one statement after the loop
        for entry in submissions:
            key = (entry.job_id, entry.evidence_hash)
            placed = dict(uri=entry.uri, block_number=entry.block_number, block_hash=entry.block_hash)
            if key in new:  # twice in one read (another block): the later placement counts
                new[key].update(placed)
            elif key not in known:
                fresh = dict(state=EvidenceState.SEEN, attempts=0, retry_at=0.0, seen_at=now)
                new[key] = dict(job_id=key[0], evidence_hash=key[1], **fresh, **placed)
                self._metrics.events_seen.labels(event="EvidenceSubmitted").inc()
                continue
            else:
                _seen_again(db, known[key], placed)
            log.info("evidence seen again", extra={"job_id": entry.job_id, "block": entry.block_number})
        if new:
            db.execute(insert(evidence), list(new.values()))
        return len(submissions)

    def orphaned(self, db: Connection, after: int) -> None:
        """Evidence from blocks above `after` that is not yet decided waits to be seen again."""
        db.execute(
            update(evidence)
            .where(evidence.c.block_number > after)
            .where(evidence.c.state.in_([EvidenceState.SEEN, EvidenceState.VERIFYING, EvidenceState.DECIDED]))
            .values(state=EvidenceState.ORPHANED)
        )


def _known(db: Connection, submissions: list[Submitted]) -> dict[tuple[str, str], Any]:
    """The stored work items of these submissions by (job, evidence hash), in one query."""
    if not submissions:
        return {}
    rows = db.execute(
        select(evidence.c.id, evidence.c.job_id, evidence.c.evidence_hash, evidence.c.state).where(
            evidence.c.job_id.in_({entry.job_id for entry in submissions})
        )
    ).all()
    return {(row.job_id, row.evidence_hash): row for row in rows}


def _seen_again(db: Connection, existing: Any, placed: dict[str, Any]) -> None:
    """The same (job, hash) in another block (a re-submission, a reorg): placed there; waits again when
    it had been given up."""
    state = (
        EvidenceState.SEEN
        if existing.state in (EvidenceState.ORPHANED, EvidenceState.SKIPPED)
        else existing.state
    )
    db.execute(update(evidence).where(evidence.c.id == existing.id).values(state=state, **placed))
