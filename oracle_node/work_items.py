"""The evidence table as the node's work queue: rows that are due, their states and their retries."""

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Row, select, update

from protocol_core.terms import JobTerms
from runtime.db import transaction

from .metrics import NodeMetrics
from .relay_store import held_bundles
from .store import EvidenceState, attestations, evidence, jobs
from .verdicts import Reason, Verdict

Decided = tuple[int, str, str, Verdict]  # evidence row id, job id, evidence hash, verdict


class WorkItems:
    """Reads and moves the work items (one evidence row per job and evidence hash)."""

    def __init__(self, engine: Engine, metrics: NodeMetrics, retry_backoff: float) -> None:
        self._engine, self._metrics, self._retry_backoff = engine, metrics, retry_backoff

    def release_all(self) -> None:
        """Hands every row marked as verifying back to be dispatched again."""
        with transaction(self._engine) as db:
            db.execute(
                update(evidence)
                .where(evidence.c.state == EvidenceState.VERIFYING)
                .values(state=EvidenceState.SEEN)
            )

    def take(self, safe: int, room: int, running: list[int]) -> Sequence[Row[Any]]:
        """Up to `room` rows due for verification and seen at or below block `safe`, oldest first."""
        with transaction(self._engine) as db:  # a pass that failed midway left these without a verifier
            db.execute(
                update(evidence)
                .where(evidence.c.state == EvidenceState.VERIFYING)
                .where(evidence.c.id.not_in(running))
                .values(state=EvidenceState.SEEN)
            )
            return db.execute(
                select(evidence)
                .where(evidence.c.state == EvidenceState.SEEN)
                .where(evidence.c.block_number <= safe)
                .where(evidence.c.retry_at <= time.time())
                .order_by(evidence.c.id)
                .limit(room)
            ).all()

    def mark_verifying(self, ids: list[int]) -> None:
        """Marks rows as handed to a verifier."""
        with transaction(self._engine) as db:
            db.execute(update(evidence).where(evidence.c.id.in_(ids)).values(state=EvidenceState.VERIFYING))

    def bundles(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        """The bytes held for these (job id, evidence hash) pairs, handed in by their workers."""
        return held_bundles(self._engine, keys)

    def terms(self, job_id: str) -> JobTerms | None:
        """The terms of a job whose JobPosted was seen, else None."""
        with self._engine.connect() as db:
            stored = db.execute(select(jobs.c.terms).where(jobs.c.job_id == job_id)).scalar()
        return None if stored is None else JobTerms.model_validate_json(stored)

    def take_decided(self, room: int) -> list[Decided]:
        """Up to `room` rows whose stored verdict waits to be attested and is due, oldest first."""
        with self._engine.connect() as db:
            rows = db.execute(
                select(evidence)
                .where(evidence.c.state == EvidenceState.DECIDED)
                .where(evidence.c.retry_at <= time.time())
                .order_by(evidence.c.id)
                .limit(room)
            ).all()
        return [
            (
                row.id,
                row.job_id,
                row.evidence_hash,
                Verdict(bool(row.approve), Reason(row.reason), row.detail or ""),
            )
            for row in rows
        ]

    def later(self, row_ids: Sequence[int], state: str, seconds: float, detail: str) -> None:
        """Puts rows back in `state` to be taken again after `seconds`, without counting an attempt:
        the RPC was behind, which is no fault of the evidence."""
        with transaction(self._engine) as db:
            db.execute(
                update(evidence)
                .where(evidence.c.id.in_(list(row_ids)))
                .values(state=state, retry_at=time.time() + seconds, detail=detail)
            )

    def first_verdicts(self, decided: list[Decided]) -> set[int]:
        """The rows among `decided` that have no verdict stored yet (a verdict is counted once per row)."""
        ids = [row_id for row_id, _, _, _ in decided]
        with self._engine.connect() as db:
            return set(
                db.execute(
                    select(evidence.c.id).where(evidence.c.id.in_(ids)).where(evidence.c.reason.is_(None))
                )
                .scalars()
                .all()
            )

    def record_verdicts(self, decided: list[Decided]) -> tuple[dict[int, Row[Any]], dict[str, str]]:
        """Stores each verdict on its row; returns the rows and their jobs' terms (JSON), read alike."""
        ids = [row_id for row_id, _, _, _ in decided]
        with transaction(self._engine) as db:
            for row_id, _, _, verdict in decided:
                db.execute(
                    update(evidence)
                    .where(evidence.c.id == row_id)
                    .values(approve=verdict.approve, reason=int(verdict.reason), detail=verdict.detail)
                )
            rows = {row.id: row for row in db.execute(select(evidence).where(evidence.c.id.in_(ids)))}
            terms = dict(
                db.execute(
                    select(jobs.c.job_id, jobs.c.terms).where(
                        jobs.c.job_id.in_({job_id for _, job_id, _, _ in decided})
                    )
                ).all()
            )
        return rows, terms

    def attested_here(self, job_id: str, evidence_hash: str) -> bool:
        """Whether this node's database holds an attestation of (job, evidence hash)."""
        with self._engine.connect() as db:
            return (
                db.execute(
                    select(attestations.c.nonce)
                    .where(attestations.c.job_id == job_id)
                    .where(attestations.c.evidence_hash == evidence_hash)
                ).first()
                is not None
            )

    def set(self, row_id: int, **values: object) -> None:
        """Updates one row by id."""
        with transaction(self._engine) as db:
            db.execute(update(evidence).where(evidence.c.id == row_id).values(**values))

    def set_pair(self, job_id: str, evidence_hash: str, **values: object) -> None:
        """Updates the row of one (job, evidence hash)."""
        with transaction(self._engine) as db:
            db.execute(
                update(evidence)
                .where(evidence.c.job_id == job_id)
                .where(evidence.c.evidence_hash == evidence_hash)
                .values(**values)
            )

    def retry_later(self, row_id: int, detail: str) -> None:
        """Puts a row back in the queue after a backoff that doubles with each attempt, capped."""
        self._metrics.verification_retries.inc()
        with transaction(self._engine) as db:
            attempts = db.execute(select(evidence.c.attempts).where(evidence.c.id == row_id)).scalar_one() + 1
            wait = min(self._retry_backoff * 2 ** (attempts - 1), 300.0)
            db.execute(
                update(evidence)
                .where(evidence.c.id == row_id)
                .values(
                    state=EvidenceState.SEEN,
                    attempts=attempts,
                    retry_at=time.time() + wait,
                    detail=detail,
                )
            )
