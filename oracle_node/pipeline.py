"""The work-item pipeline: evidence to verifiers once the chain agrees, verdicts to dry-run attestations."""

import logging
import secrets
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, Row

from protocol_core.enums import JobStatus
from protocol_core.terms import JobTerms
from runtime.chain import BlockRef, Chain
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
BEHIND_RETRY = 0.5  # seconds before a read an RPC answered from behind the node's view is made again


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
        # Two processes on one key never sign identical bytes: the chain then shows which lost a nonce.
        self._gas_salt = secrets.randbelow(1_000)
        self._in_flight: dict[int, tuple[Future[Verdict], str, str]] = {}
        self._hashes: dict[int, str | None] = {}

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

    def dispatch(self, safe: int, seen: BlockRef | None) -> int:
        """Starts verifying the evidence due at or below block `safe`; returns how many rows were taken.

        The escrow is read at `seen`, the block the node has ingested up to (EIP-1898), so a backend
        behind it cannot answer with a job that is not yet Submitted.
        """
        room = self._max_in_flight - len(self._in_flight)
        if room <= 0 or seen is None:
            return 0
        rows = self._items.take(safe, room, running=list(self._in_flight))
        if not rows:
            return 0
        contexts = self._contracts.verification_contexts([row.job_id for row in rows], seen)
        if contexts is None:
            self._behind(
                [row.id for row in rows], EvidenceState.SEEN, f"the RPC has no block {seen.number} yet"
            )
            return 0
        started: list[int] = []
        # Bytes a worker handed in (the relayed flow) are used rather than fetched: the same hash.
        held = self._items.bundles({(row.job_id, row.evidence_hash) for row in rows})
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
                raw=held.get((row.job_id, row.evidence_hash)),
            )
            self._in_flight[row.id] = (self._verifiers.submit(request), row.job_id, row.evidence_hash)
            started.append(row.id)
        if started:
            self._items.mark_verifying(started)
        return len(rows)

    def _reconcile(self, row: Row[Any], context: VerificationContext) -> JobTerms | None:
        """The chain, not memory, decides whether this evidence still needs us; a read that contradicts
        what the node has seen (the job not yet Submitted) is a backend behind, asked again later."""
        canonical = self._canonical(row.block_number, row.block_hash)
        if canonical is False:
            self._items.set(row.id, state=EvidenceState.ORPHANED, detail="its block left the chain")
            return None
        if canonical is None or context.status < JobStatus.SUBMITTED:
            self._behind([row.id], EvidenceState.SEEN, f"the RPC is behind block {row.block_number}")
            return None
        if context.status != JobStatus.SUBMITTED or context.evidence_hash != row.evidence_hash:
            detail = f"job {JobStatus(context.status).name} with evidence {context.evidence_hash}: not ours"
            self._items.set(row.id, state=EvidenceState.SKIPPED, detail=detail)
            return None
        terms = self._items.terms(row.job_id)
        if terms is None:
            self._items.set(row.id, state=EvidenceState.SKIPPED, detail="no JobPosted seen for this job")
            log.error("terms unknown; is start_block after the job was posted?", extra={"job_id": row.job_id})
        return terms

    def collect(self, head: int, seen: BlockRef | None, attesting: bool = True) -> int:
        """Turns finished verifications, and stored verdicts whose attestation waited (while `attesting`:
        the key can attest), into attestations: dry-run together at block `seen`, persisted and sent
        together. Returns how many rows moved."""
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
            decided.append((row_id, job_id, evidence_hash, verdict))
        for row_id in self._items.first_verdicts(decided):  # a job re-verified or re-signed counts once
            verdict = next(v for r, _, _, v in decided if r == row_id)
            self._metrics.verdicts.labels(
                approve=str(verdict.approve).lower(), reason=verdict.reason.name
            ).inc()
        waiting = self._items.take_decided(self._max_in_flight) if seen is not None and attesting else []
        self._attest(decided + waiting, head, seen)
        return len(done) + len(waiting)

    def _attest(self, decided: list[Decided], head: int, seen: BlockRef | None) -> None:
        if not decided:
            return
        rows, terms = self._items.record_verdicts(decided)
        if seen is None:
            self._behind(
                [row_id for row_id, _, _, _ in decided], EvidenceState.DECIDED, "no block ingested yet"
            )
            return
        ready: list[Call[Attestation]] = []
        rows_of: dict[tuple[str, str], int] = {}
        for row_id, job_id, evidence_hash, verdict in decided:
            row = rows[row_id]
            rows_of[(job_id, evidence_hash)] = row_id
            canonical = self._canonical(row.block_number, row.block_hash)  # checked again right before acting
            if canonical is None:
                self._behind([row_id], EvidenceState.DECIDED, f"the RPC is behind block {row.block_number}")
                continue
            if not canonical:
                self._items.set(row_id, state=EvidenceState.ORPHANED, detail="its block left the chain")
                continue
            reason = int(verdict.reason)
            data = attest_call(
                job_id, evidence_hash, verdict.approve, reason, JobTerms.model_validate_json(terms[job_id])
            )
            purpose = Attestation(job_id, evidence_hash, verdict.approve, reason)
            ready.append(Call(self._contracts.oracle, data, 0, purpose, row.seen_at))
        passing: list[Call[Attestation]] = []
        dry_runs = (
            self._contracts.dry_runs(self._sender.address, [call.data for call in ready], seen)
            if ready
            else []
        )
        refused: list[tuple[Attestation, str]] = []
        for call, gas in zip(ready, dry_runs, strict=True):
            if isinstance(gas, str):
                refused.append((call.purpose, gas))
            else:
                passing.append(replace(call, gas=gas + self._gas_margin + self._gas_salt))
        self._refused(refused, rows_of, seen)
        for sent in self._sender.send(passing, head, claim):
            log.info(
                "attestation sent",
                extra={"job_id": sent.purpose.job_id, "tx_hash": sent.tx_hash, "nonce": sent.nonce},
            )

    def _refused(
        self, refused: list[tuple[Attestation, str]], rows_of: dict[tuple[str, str], int], seen: BlockRef
    ) -> None:
        """Failed dry runs: done, nothing left to do, or (the RPC behind or refusing, our stake) worth
        another try. "Nothing to do" is believed only when the escrow, read at `seen`, agrees: a job
        still Submitted with this evidence means the answer came from behind the node's view."""
        final = [item for item, revert in refused if revert in NOTHING_TO_DO]
        contexts = (
            self._contracts.verification_contexts([item.job_id for item in final], seen) if final else []
        )
        context_of = dict(zip([(i.job_id, i.evidence_hash) for i in final], contexts or [], strict=False))
        for item, revert in refused:
            row_id, detail = rows_of[(item.job_id, item.evidence_hash)], f"dry run: {revert}"
            log.info("not attesting now: %s", revert, extra={"job_id": item.job_id})
            if revert == NOT_OPERATOR:  # waits (no backoff) while the standing check says so
                self._standing.doubt()
                self._items.later([row_id], EvidenceState.DECIDED, BEHIND_RETRY, detail)
            elif revert in ALREADY_DONE:
                if not self._items.attested_here(item.job_id, item.evidence_hash):
                    log.error(
                        "the key attested this job, but this node did not: another process signs with "
                        "this key (a second node?); run one node per key",
                        extra={"job_id": item.job_id, "operator": self._sender.address},
                    )
                self._items.set(row_id, state=EvidenceState.DONE, detail=detail)
            elif revert in NOTHING_TO_DO:
                context = context_of.get((item.job_id, item.evidence_hash))
                if context is None or context.behind(item.evidence_hash):
                    self._behind(
                        [row_id], EvidenceState.DECIDED, f"{detail}, contradicted at block {seen.number}"
                    )
                else:
                    self._items.set(row_id, state=EvidenceState.SKIPPED, detail=detail)
            else:  # the RPC refused (behind the pinned block, a rate limit): the verdict waits, not redone
                self._behind([row_id], EvidenceState.DECIDED, detail)

    def _behind(self, row_ids: list[int], state: str, detail: str) -> None:
        """The RPC answered from behind what the node has seen: the rows are taken again shortly."""
        self._metrics.stale_reads.inc()
        self._items.later(row_ids, state, BEHIND_RETRY, detail)

    def _canonical(self, number: int, block_hash: str) -> bool | None:
        """Whether the block at `number` is `block_hash`; None when the RPC has no such block yet (a
        lagging backend: never orphan on it)."""
        if number not in self._hashes:
            block = self._chain.block(number)
            if block is None:
                return None
            self._hashes[number] = block.hash
        return self._hashes[number] == block_hash
