"""The work-item pipeline: evidence to verifiers once the chain agrees, verdicts to dry-run attestations."""

import logging
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, Row

from protocol_core.enums import JobStatus
from protocol_core.terms import JobTerms
from runtime.chain import Chain
from runtime.errors import ChainUnavailable
from runtime.sender import Call, Sender

from .attestations import Attestation, claim
from .contracts import OracleContracts, VerificationContext, attest_call
from .dispatch import VerificationBackend
from .errors import TransientVerificationError
from .metrics import NodeMetrics
from .standing import StandingWatch
from .store import EvidenceState
from .verdicts import Verdict, VerificationRequest
from .work_items import Decided, WorkItems

log = logging.getLogger(__name__)
NOT_OPERATOR = "NotActiveOperator"  # out of the operator set, or below minStake
ALREADY_DONE = ("AlreadyAttested",)  # dry-run reverts meaning our attestation is on chain
NOTHING_TO_DO = ("NotAwaitingVerification", "EvidenceMismatch", "VerificationClosed", "TermsNotForJob")


class Pipeline:
    """Takes work items through verification to attestations handed to the sender."""

    def __init__(
        self,
        contracts: OracleContracts,
        engine: Engine,
        sender: Sender,
        verifiers: VerificationBackend,
        metrics: NodeMetrics,
        in_flight: int,  # most verifications running at once
        retry_backoff: float,  # first wait after a transient verification failure; doubles, capped
        gas_margin: int,  # added to the dry run's estimate: the attestation may end up final
        standing: StandingWatch,
    ) -> None:
        self._standing = standing
        self._contracts, self._sender, self._verifiers, self._metrics = contracts, sender, verifiers, metrics
        self._chain: Chain = contracts.chain
        self._items = WorkItems(engine, metrics, retry_backoff)
        self._max_in_flight, self._gas_margin = in_flight, gas_margin
        self._chain_id = 0
        self._in_flight: dict[int, tuple[Future[Verdict], str, str]] = {}
        self._hashes: dict[int, str] = {}

    def start(self, chain_id: int) -> None:
        """Hands back the verifications that died with a previous run."""
        self._chain_id = chain_id
        self._items.release_all()

    def new_pass(self) -> None:
        """Forgets the block hashes seen so far: they are cached for one pass only."""
        self._hashes.clear()

    def futures(self) -> list[Future[Verdict]]:
        """The verifications still running."""
        return [future for future, _, _ in self._in_flight.values()]

    def close(self) -> None:
        """Stops the verifiers."""
        self._verifiers.close()

    def dispatch(self, safe: int) -> int:
        """Starts verifying the evidence due at or below block `safe`; returns how many rows were taken."""
        room = self._max_in_flight - len(self._in_flight)
        if room <= 0:
            return 0
        rows = self._items.take(safe, room, running=list(self._in_flight))
        contexts = self._contracts.verification_contexts([row.job_id for row in rows]) if rows else []
        started: list[int] = []
        for row, context in zip(rows, contexts, strict=True):
            terms = self._reconcile(row, context)
            if terms is None:
                continue
            request = VerificationRequest(
                chain_id=self._chain_id,
                escrow=self._contracts.escrow,
                job_id=bytes.fromhex(row.job_id[2:]),
                evidence_hash=bytes.fromhex(row.evidence_hash[2:]),
                uri=row.uri,
                confirmer=terms.confirmer,
            )
            self._in_flight[row.id] = (self._verifiers.submit(request), row.job_id, row.evidence_hash)
            started.append(row.id)
        if started:
            self._items.mark_verifying(started)
        return len(rows)

    def _reconcile(self, row: Row[Any], context: VerificationContext) -> JobTerms | None:
        """The chain, not memory, decides whether this evidence still needs us."""
        if not self._canonical(row.block_number, row.block_hash):
            self._items.set(row.id, state=EvidenceState.ORPHANED, detail="its block left the chain")
            return None
        if context.status != JobStatus.SUBMITTED or context.evidence_hash != row.evidence_hash:
            detail = f"job status {context.status}, no longer ours"
            self._items.set(row.id, state=EvidenceState.SKIPPED, detail=detail)
            return None
        terms = self._items.terms(row.job_id)
        if terms is None:
            self._items.set(row.id, state=EvidenceState.SKIPPED, detail="no JobPosted seen for this job")
            log.error("terms unknown; is start_block after the job was posted?", extra={"job_id": row.job_id})
        return terms

    def collect(self, head: int) -> int:
        """Turns finished verifications into attestations: dry-run together, persisted and sent together."""
        done = [key for key, (future, _, _) in self._in_flight.items() if future.done()]
        decided: list[Decided] = []
        for row_id in done:
            future, job_id, evidence_hash = self._in_flight.pop(row_id)
            try:
                verdict = future.result()
            except TransientVerificationError as error:
                self._items.retry_later(row_id, str(error))
                continue
            except Exception as error:  # a verifier bug must not stop the node or drop the work
                log.exception("verification crashed", extra={"job_id": job_id})
                self._items.retry_later(row_id, f"verifier error: {error}")
                continue
            self._metrics.verdicts.labels(
                approve=str(verdict.approve).lower(), reason=verdict.reason.name
            ).inc()
            decided.append((row_id, job_id, evidence_hash, verdict))
        self._attest(decided, head)
        return len(done)

    def _attest(self, decided: list[Decided], head: int) -> None:
        if not decided:
            return
        rows, terms = self._items.record_verdicts(decided)
        ready: list[Call[Attestation]] = []
        for row_id, job_id, evidence_hash, verdict in decided:
            row = rows[row_id]
            if not self._canonical(row.block_number, row.block_hash):  # checked again right before acting
                self._items.set(row_id, state=EvidenceState.ORPHANED, detail="its block left the chain")
                continue
            reason = int(verdict.reason)
            data = attest_call(
                job_id, evidence_hash, verdict.approve, reason, JobTerms.model_validate_json(terms[job_id])
            )
            purpose = Attestation(job_id, evidence_hash, verdict.approve, reason)
            ready.append(Call(self._contracts.oracle, data, 0, purpose, row.seen_at))
        passing: list[Call[Attestation]] = []
        dry_runs = self._contracts.dry_runs(self._sender.address, [call.data for call in ready])
        for call, gas in zip(ready, dry_runs, strict=True):
            if isinstance(gas, str):
                self._not_attesting(call.purpose, gas)
            else:
                passing.append(replace(call, gas=gas + self._gas_margin))
        for sent in self._sender.send(passing, head, claim):
            log.info(
                "attestation sent",
                extra={"job_id": sent.purpose.job_id, "tx_hash": sent.tx_hash, "nonce": sent.nonce},
            )

    def _not_attesting(self, item: Attestation, revert: str) -> None:
        """A failed dry run: done, nothing left to do, or (the RPC, our stake) worth another try."""
        detail = f"dry run: {revert}"
        log.info("not attesting now: %s", revert, extra={"job_id": item.job_id})
        if revert == NOT_OPERATOR:  # no backoff: the verdict is sent once the standing is restored
            self._standing.doubt()
            self._items.set_pair(item.job_id, item.evidence_hash, state=EvidenceState.SEEN, detail=detail)
        elif revert in ALREADY_DONE:
            self._items.set_pair(item.job_id, item.evidence_hash, state=EvidenceState.DONE, detail=detail)
        elif revert in NOTHING_TO_DO:
            self._items.set_pair(item.job_id, item.evidence_hash, state=EvidenceState.SKIPPED, detail=detail)
        else:
            self._items.retry_pair_later(item.job_id, item.evidence_hash, detail)

    def _canonical(self, number: int, block_hash: str) -> bool:
        if number not in self._hashes:
            block = self._chain.block(number)
            if block is None:  # a lagging or load-balanced RPC: try again, never orphan on it
                raise ChainUnavailable(f"the RPC has no block {number} yet")
            self._hashes[number] = block.hash
        return self._hashes[number] == block_hash
