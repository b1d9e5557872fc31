"""The node's loop: ingest, reconcile with the contracts, verify, attest, follow transactions."""

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import Engine, select, update

from protocol_core.terms import JobTerms

from .chain import SUBMITTED, Chain, VerificationContext
from .dispatch import VerificationBackend
from .errors import ChainUnavailable, TransientVerificationError, WrongDeployment
from .health import HealthServer
from .metrics import NodeMetrics
from .sender import Attestation, Sender
from .store import EvidenceState, evidence, jobs, transaction
from .verdicts import Verdict, VerificationRequest
from .watcher import Watcher

log = logging.getLogger(__name__)
ALREADY_DONE = ("AlreadyAttested",)  # dry-run reverts meaning our attestation is on chain
NOTHING_TO_DO = ("NotAwaitingVerification", "EvidenceMismatch", "VerificationClosed", "TermsNotForJob")
READY_LAG = 3  # blocks behind the head that still count as caught up


@dataclass(frozen=True)
class Pacing:
    """How the loop waits and retries."""

    confirmations: int | Literal["finalized"]
    poll_interval: float  # idle wait between passes
    retry_backoff: float  # first wait after a transient verification failure; doubles, capped
    in_flight: int  # most verifications running at once
    gas_margin: int = 150_000  # added to the dry run's estimate: the attestation may end up final


class OracleNode:
    """Turns submitted evidence into exactly one on-chain attestation per (job, evidence hash)."""

    def __init__(
        self,
        chain: Chain,
        engine: Engine,
        watcher: Watcher,
        sender: Sender,
        verifiers: VerificationBackend,
        metrics: NodeMetrics,
        health: HealthServer,
        pacing: Pacing,
    ) -> None:
        self._chain, self._engine, self._watcher, self._sender = chain, engine, watcher, sender
        self._verifiers, self._metrics, self._health, self._pacing = verifiers, metrics, health, pacing
        self._chain_id = 0
        self._in_flight: dict[int, tuple[Future[Verdict], str, str]] = {}
        self._hashes: dict[int, str] = {}

    def run(self, stop: threading.Event) -> None:
        """Runs passes until `stop` is set; an unreachable RPC is waited out, never fatal."""
        backoff = self._pacing.poll_interval
        started = False
        while not stop.is_set():
            try:
                if not started:
                    self._start()
                    started = True
                busy = self.run_once()
                backoff = self._pacing.poll_interval
            except ChainUnavailable as error:
                self._health.set_ready(False, str(error))
                log.warning("chain unavailable, retrying in %.1fs: %s", backoff, error)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except WrongDeployment:
                raise
            except Exception:  # a bug or a surprise from the RPC: the pass is redone from the database
                self._health.set_ready(False, "last pass failed; see the log")
                log.exception("pass failed, retrying in %.1fs", backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            finally:
                self._health.beat()
            if not busy:
                self._idle(stop)
        self._verifiers.close()

    def _start(self) -> None:
        self._chain_id = self._chain.chain_id()
        self._watcher.check_deployment(self._chain_id, self._sender.address)
        with transaction(self._engine) as db:  # verifications of a previous run died with it
            db.execute(
                update(evidence)
                .where(evidence.c.state == EvidenceState.VERIFYING)
                .values(state=EvidenceState.SEEN)
            )
        self._sender.start()
        log.info("node started", extra={"operator": self._sender.address, "chain_id": self._chain_id})

    def run_once(self) -> bool:
        """One pass; returns whether anything happened (the loop then goes again without waiting)."""
        head = self._chain.head()
        self._hashes.clear()  # block hashes are cached for one pass only
        new = self._watcher.poll(head, self._chain_id, self._sender.address)
        started = self._dispatch(self._safe_head(head))
        decided = self._collect(head)
        mined = self._sender.tick(head)
        for done in mined:
            if done.succeeded:
                self._metrics.attestation_latency_seconds.observe(done.seconds_since_seen)
        cursor = self._watcher.cursor()
        self._metrics.head_block.set(head)
        self._metrics.cursor_block.set(cursor)
        self._metrics.lag_blocks.set(head - cursor)
        self._health.set_ready(head - cursor <= READY_LAG, f"{head - cursor} blocks behind the head")
        return bool(new or started or decided or mined)

    def _idle(self, stop: threading.Event) -> None:
        """Waits one poll interval, or less when a verification finishes first."""
        futures = [future for future, _, _ in self._in_flight.values()]
        if futures:
            wait(futures, timeout=self._pacing.poll_interval, return_when=FIRST_COMPLETED)
        else:
            stop.wait(self._pacing.poll_interval)

    def _safe_head(self, head: int) -> int:
        if self._pacing.confirmations == "finalized":
            block = self._chain.block("finalized")
            return block.number if block is not None else -1
        return head - self._pacing.confirmations

    def _dispatch(self, safe: int) -> int:
        room = self._pacing.in_flight - len(self._in_flight)
        if room <= 0:
            return 0
        with transaction(self._engine) as db:  # a pass that failed midway left these without a verifier
            db.execute(
                update(evidence)
                .where(evidence.c.state == EvidenceState.VERIFYING)
                .where(evidence.c.id.not_in(list(self._in_flight)))
                .values(state=EvidenceState.SEEN)
            )
            rows = db.execute(
                select(evidence)
                .where(evidence.c.state == EvidenceState.SEEN)
                .where(evidence.c.block_number <= safe)
                .where(evidence.c.retry_at <= time.time())
                .order_by(evidence.c.id)
                .limit(room)
            ).all()
        contexts = self._chain.verification_contexts([row.job_id for row in rows]) if rows else []
        started: list[int] = []
        for row, context in zip(rows, contexts, strict=True):
            terms = self._reconcile(row, context)
            if terms is None:
                continue
            request = VerificationRequest(
                chain_id=self._chain_id,
                escrow=self._chain.escrow.address,
                job_id=bytes.fromhex(row.job_id[2:]),
                evidence_hash=bytes.fromhex(row.evidence_hash[2:]),
                uri=row.uri,
                confirmer=terms.confirmer,
            )
            self._in_flight[row.id] = (self._verifiers.submit(request), row.job_id, row.evidence_hash)
            started.append(row.id)
        if started:
            with transaction(self._engine) as db:
                db.execute(
                    update(evidence).where(evidence.c.id.in_(started)).values(state=EvidenceState.VERIFYING)
                )
        return len(rows)

    def _reconcile(self, row, context: VerificationContext) -> JobTerms | None:  # type: ignore[no-untyped-def]
        """The chain, not memory, decides whether this evidence still needs us."""
        if not self._canonical(row.block_number, row.block_hash):
            self._set(row.id, state=EvidenceState.ORPHANED, detail="its block left the chain")
            return None
        if context.status != SUBMITTED or context.evidence_hash != row.evidence_hash:
            self._set(
                row.id, state=EvidenceState.SKIPPED, detail=f"job status {context.status}, no longer ours"
            )
            return None
        with self._engine.connect() as db:
            stored = db.execute(select(jobs.c.terms).where(jobs.c.job_id == row.job_id)).scalar()
        if stored is None:
            self._set(row.id, state=EvidenceState.SKIPPED, detail="no JobPosted seen for this job")
            log.error("terms unknown; is start_block after the job was posted?", extra={"job_id": row.job_id})
            return None
        return JobTerms.model_validate_json(stored)

    def _collect(self, head: int) -> int:
        """Turns finished verifications into attestations: dry-run together, persisted and sent together."""
        done = [key for key, (future, _, _) in self._in_flight.items() if future.done()]
        decided: list[tuple[int, str, str, Verdict]] = []
        for row_id in done:
            future, job_id, evidence_hash = self._in_flight.pop(row_id)
            try:
                verdict = future.result()
            except TransientVerificationError as error:
                self._retry_later(row_id, str(error))
                continue
            except Exception as error:  # a verifier bug must not stop the node or drop the work
                log.exception("verification crashed", extra={"job_id": job_id})
                self._retry_later(row_id, f"verifier error: {error}")
                continue
            self._metrics.verdicts.labels(
                approve=str(verdict.approve).lower(), reason=verdict.reason.name
            ).inc()
            decided.append((row_id, job_id, evidence_hash, verdict))
        self._attest(decided, head)
        return len(done)

    def _attest(self, decided: list[tuple[int, str, str, Verdict]], head: int) -> None:
        if not decided:
            return
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
        ready: list[Attestation] = []
        for row_id, job_id, evidence_hash, verdict in decided:
            row = rows[row_id]
            if not self._canonical(row.block_number, row.block_hash):  # checked again right before acting
                self._set(row_id, state=EvidenceState.ORPHANED, detail="its block left the chain")
                continue
            job_terms = JobTerms.model_validate_json(terms[job_id])
            data = self._chain.attest_call(
                job_id, evidence_hash, verdict.approve, int(verdict.reason), job_terms
            )
            ready.append(
                Attestation(job_id, evidence_hash, verdict.approve, int(verdict.reason), data, 0, row.seen_at)
            )
        passing: list[Attestation] = []
        for item, gas in zip(
            ready, self._chain.dry_runs(self._sender.address, [i.data for i in ready]), strict=True
        ):
            if isinstance(gas, str):
                self._not_attesting(item, gas)
            else:
                passing.append(replace(item, gas=gas + self._pacing.gas_margin))
        self._sender.attest(passing, head)

    def _not_attesting(self, item: Attestation, revert: str) -> None:
        """A failed dry run: done, nothing left to do, or (the RPC, our stake) worth another try."""
        detail = f"dry run: {revert}"
        log.info("not attesting now: %s", revert, extra={"job_id": item.job_id})
        if revert in ALREADY_DONE:
            self._set_evidence(item.job_id, item.evidence_hash, state=EvidenceState.DONE, detail=detail)
        elif revert in NOTHING_TO_DO:
            self._set_evidence(item.job_id, item.evidence_hash, state=EvidenceState.SKIPPED, detail=detail)
        else:
            with self._engine.connect() as db:
                row_id = db.execute(
                    select(evidence.c.id)
                    .where(evidence.c.job_id == item.job_id)
                    .where(evidence.c.evidence_hash == item.evidence_hash)
                ).scalar_one()
            self._retry_later(row_id, detail)

    def _retry_later(self, row_id: int, detail: str) -> None:
        self._metrics.verification_retries.inc()
        with transaction(self._engine) as db:
            attempts = db.execute(select(evidence.c.attempts).where(evidence.c.id == row_id)).scalar_one() + 1
            wait = min(self._pacing.retry_backoff * 2 ** (attempts - 1), 300.0)
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

    def _canonical(self, number: int, block_hash: str) -> bool:
        if number not in self._hashes:
            block = self._chain.block(number)
            if block is None:  # a lagging or load-balanced RPC: try again, never orphan on it
                raise ChainUnavailable(f"the RPC has no block {number} yet")
            self._hashes[number] = block.hash
        return self._hashes[number] == block_hash

    def _set_evidence(self, job_id: str, evidence_hash: str, **values: object) -> None:
        with transaction(self._engine) as db:
            db.execute(
                update(evidence)
                .where(evidence.c.job_id == job_id)
                .where(evidence.c.evidence_hash == evidence_hash)
                .values(**values)
            )

    def _set(self, row_id: int, **values: object) -> None:
        with transaction(self._engine) as db:
            db.execute(update(evidence).where(evidence.c.id == row_id).values(**values))
