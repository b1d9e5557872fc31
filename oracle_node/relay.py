"""The relayed flow's pass: chain evidence joins the exchange, items go to the verifiers, verdicts are
signed and pushed to the peers, and the leader (relay_leader) sends what the quorum signed.

Evidence seen on chain waits `fallback_delay` before the one-by-one path (pipeline.py) may attest
it, so that the quorum's signatures can go in one `attestWithSignatures` first.
"""

import logging
import time
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Engine, bindparam, select, update

from protocol_core.handoff import AttestationSignature, EvidenceRecord
from runtime.db import insert_ignore_many, transaction

from .dispatch import VerificationBackend
from .errors import TransientVerificationError
from .exchange import Exchange
from .intake import Intake
from .operators import OperatorSet
from .relay_contracts import RelayReads, settled
from .relay_http import RelayServer
from .relay_leader import Leader
from .relay_store import (
    ITEM_KEYS,
    ItemState,
    new_item,
    of_jobs,
    prune,
    relay_items,
    relay_signatures,
    set_items,
    stored_terms,
)
from .store import EvidenceState, evidence, jobs
from .verdicts import FETCH_REASONS, Verdict, VerificationRequest

log = logging.getLogger(__name__)
REPUSH = 3.0  # seconds between two pushes of our signature on an item still waiting for its quorum
ROWS = 256  # items looked at per step and pass
PRUNE_EVERY = 60.0  # seconds between two prunings of settled items older than the retention
PRUNE_ROWS = 512  # items pruned per pass at most
VIEW_AGE = 2.0  # seconds a job's view may be old when deciding whether to verify an item
REFETCH = 1.0  # seconds before an item whose URI failed is verified again (its bytes may have come)
ARRIVALS = ITEM_KEYS.add_columns(relay_items.c.received_at, relay_items.c.state)
RECORDS = ITEM_KEYS.add_columns(  # what a record for the peers needs (not the bundle's bytes)
    *(relay_items.c[name] for name in ("terms", "uri", "worker", "deadline", "signature"))
)


class Relay:
    """Takes relayed items from intake (or the chain) to signed verdicts, and hands them to the leader."""

    def __init__(
        self,
        engine: Engine,
        reads: RelayReads,
        operators: OperatorSet,
        exchange: Exchange,
        leader: Leader,
        verifiers: VerificationBackend,
        in_flight: int,  # most verifications running at once
        fallback_delay: float,  # seconds without a quorum before the on-chain path takes over
        intake: Intake,
        server: RelayServer,  # serves the intake and the exchange once the chain id is known
        retention: float,  # seconds a settled item's rows are kept, counted from its arrival
    ) -> None:
        self._retention, self._pruned_at, self._repush_at = retention, 0.0, 0.0
        self._intake, self._server = intake, server
        self._engine, self._reads, self._operators, self._exchange = engine, reads, operators, exchange
        self._leader, self._verifiers = leader, verifiers
        self._max_in_flight, self._fallback_delay = in_flight, fallback_delay
        self._in_flight: dict[tuple[str, str], Future[Verdict]] = {}
        self._fetching: dict[tuple[str, str], float] = {}  # in flight without bytes: until when to wait
        self._chain_id = 0

    def start(self, chain_id: int) -> None:
        """Hands back verifications that died with a previous run; starts the peers' senders."""
        self._chain_id = self._intake.chain_id = chain_id
        self._exchange.start(chain_id)
        with transaction(self._engine) as db:
            db.execute(
                update(relay_items)
                .where(relay_items.c.state == ItemState.VERIFYING)
                .values(state=ItemState.PENDING)
            )
        self._server.start()

    def futures(self) -> list[Future[Verdict]]:
        """The verifications still running."""
        return list(self._in_flight.values())

    def close(self) -> None:
        """Stops serving and pushing to the peers."""
        self._server.stop()
        self._exchange.close()

    def run_once(self, head: int, safe: int) -> int:
        """One pass (chain evidence counts once at or below block `safe`); how many things happened."""
        done = self._join_chain_evidence(safe) + self._dispatch() + self._collect()
        done += self._leader.advance(head)
        self._repush()
        self._prune()
        return done

    def _prune(self) -> None:
        now = time.time()
        if now - self._pruned_at < PRUNE_EVERY:
            return
        pruned = prune(self._engine, now - self._retention, limit=PRUNE_ROWS)
        if pruned < PRUNE_ROWS:  # a full batch: more are due, pruned at the next pass
            self._pruned_at = now
        if pruned:
            log.info("pruned %d settled relay items older than %.0f s", pruned, self._retention)

    def _join_chain_evidence(self, safe: int) -> int:
        """Evidence new on chain becomes an item (unless we hold it) and waits before the one-by-one path."""
        with transaction(self._engine, durable=False) as db:  # derived from the chain: read again if lost
            fresh = db.execute(
                select(
                    evidence.c.id,
                    evidence.c.job_id,
                    evidence.c.evidence_hash,
                    evidence.c.uri,
                    evidence.c.seen_at,
                    jobs.c.terms,
                )
                .join(jobs, jobs.c.job_id == evidence.c.job_id)
                .where(evidence.c.state == EvidenceState.SEEN)
                .where(evidence.c.attempts == 0)
                .where(evidence.c.retry_at == 0.0)
                .where(evidence.c.block_number <= safe)
                .limit(ROWS)
            ).all()
            if not fresh:
                return 0
            items = [
                new_item(row.job_id, row.evidence_hash, "chain", row.seen_at, terms=row.terms, uri=row.uri)
                for row in fresh
            ]
            insert_ignore_many(db, relay_items, items)  # one statement for the batch, as each update below
            held = {
                (item.job_id, item.evidence_hash): item
                for item in db.execute(ARRIVALS, of_jobs(row.job_id for row in fresh))
            }
            patience, done, due = self._exchange.patience(time.time()), [], []
            for row in fresh:
                item = held[(row.job_id, row.evidence_hash)]
                if item.state == ItemState.DONE:  # our relayed verdict put it there
                    done.append({"key_id": row.id, "state": EvidenceState.DONE})
                else:  # 1.0 (in 1970) is "due now": a retry_at of 0 marks evidence not yet looked at.
                    due.append({"key_id": row.id, "retry_at": max(item.received_at + patience, 1.0)})
            by_id = update(evidence).where(evidence.c.id == bindparam("key_id"))
            for moves, column in ((done, "state"), (due, "retry_at")):
                if moves:
                    db.execute(by_id.values({column: bindparam(column)}), moves)
        return len(fresh)

    def _dispatch(self) -> int:
        room = self._max_in_flight - len(self._in_flight)
        if room <= 0:
            return 0
        with self._engine.connect() as db:
            rows = db.execute(
                select(relay_items)
                .where(relay_items.c.state == ItemState.PENDING)
                .where(relay_items.c.retry_at <= time.time())
                .order_by(relay_items.c.received_at)
                .limit(room)
            ).all()
        if not rows:
            return 0
        # Verifying an item whose job just moved on costs a verification, never money (the leader reads
        # the job again and dry-runs): the view the intake read a moment ago will do.
        views = self._reads.jobs([row.job_id for row in rows], max_age=VIEW_AGE)
        moves: list[tuple[str, str, dict[str, Any]]] = []
        for row, view in zip(rows, views, strict=True):
            moved = settled(row, view)
            if moved is not None:
                moves.append((row.job_id, row.evidence_hash, {"state": moved[0], "detail": moved[1]}))
                continue
            terms = stored_terms(row.terms)
            request = VerificationRequest(
                chain_id=self._chain_id,
                escrow=self._reads.escrow,
                job_id=bytes.fromhex(row.job_id[2:]),  # an item's job id is its terms' hash
                evidence_hash=bytes.fromhex(row.evidence_hash[2:]),
                uri=row.uri,
                confirmer=terms.confirmer,
                raw=row.bundle,
            )
            self._in_flight[(row.job_id, row.evidence_hash)] = self._verifiers.submit(request)
            if row.bundle is None:  # until the fallback, a fetch that fails waits for the worker's bytes
                self._fetching[(row.job_id, row.evidence_hash)] = row.received_at + self._fallback_delay
            moves.append((row.job_id, row.evidence_hash, {"state": ItemState.VERIFYING}))
        set_items(self._engine, moves)
        return len(rows)

    def _collect(self) -> int:
        finished = [key for key, future in self._in_flight.items() if future.done()]
        if not finished:
            return 0
        set_nonce = self._operators.current().set_nonce
        records = self.records(finished)
        signed: list[AttestationSignature] = []
        moves: list[tuple[str, str, dict[str, Any]]] = []
        for job_id, evidence_hash in finished:
            future = self._in_flight.pop((job_id, evidence_hash))
            wait = self._fetching.pop((job_id, evidence_hash), 0.0) - time.time()
            try:
                verdict = future.result()
            except Exception as error:  # transient (a helpdesk down) or a verifier bug: never dropped
                if not isinstance(error, TransientVerificationError):
                    log.exception("relayed verification crashed", extra={"job_id": job_id})
                retry = {"state": ItemState.PENDING, "retry_at": time.time() + 1.0}
                moves.append((job_id, evidence_hash, {**retry, "detail": f"failed: {error}"}))
                continue
            if verdict.reason in FETCH_REASONS and wait > 0:  # not the worker's fault yet, maybe
                detail = f"{verdict.detail}; waiting for the bytes"
                retry = {"state": ItemState.PENDING, "retry_at": time.time() + min(wait, REFETCH)}
                moves.append((job_id, evidence_hash, {**retry, "detail": detail}))
                continue
            record = records[(job_id, evidence_hash)]
            signed.append(self._exchange.sign(record, verdict.approve, int(verdict.reason), set_nonce))
            decided = {"approve": verdict.approve, "reason": int(verdict.reason), "detail": verdict.detail}
            moves.append(
                (job_id, evidence_hash, {"state": ItemState.SIGNED, "pushed_at": time.time(), **decided})
            )
        self._exchange.store(signed)  # our signatures are on disk before they leave the process
        set_items(self._engine, moves)
        self._exchange.push(signed)
        return len(finished)

    def _repush(self) -> None:
        """Our signature again to every peer for items short of a quorum (a peer may have restarted)."""
        now = time.time()
        if now < self._repush_at:  # looked for a few times per REPUSH, not at every pass
            return
        with self._engine.connect() as db:
            rows = db.execute(
                select(
                    relay_items.c.job_id,
                    relay_items.c.evidence_hash,
                    relay_signatures.c.approve,
                    relay_signatures.c.reason,
                    relay_signatures.c.set_nonce,
                    relay_signatures.c.signature,
                )
                .join(
                    relay_signatures,
                    (relay_signatures.c.job_id == relay_items.c.job_id)
                    & (relay_signatures.c.evidence_hash == relay_items.c.evidence_hash)
                    & (relay_signatures.c.approve == relay_items.c.approve)
                    & (relay_signatures.c.reason == relay_items.c.reason),
                )
                .where(relay_signatures.c.signer == self._exchange.me)
                .where(relay_items.c.state == ItemState.SIGNED)
                .where(relay_items.c.pushed_at < now - REPUSH)
                .where(relay_items.c.received_at > now - 2 * self._fallback_delay)
                .limit(ROWS)
            ).all()
        self._repush_at = now + (REPUSH / 4 if len(rows) < ROWS else 0.0)  # a full batch: more are due
        if not rows:
            return
        records = self.records([(row.job_id, row.evidence_hash) for row in rows])
        again = [
            AttestationSignature(
                evidence=records[(row.job_id, row.evidence_hash)],
                approve=row.approve,
                reason=row.reason,
                set_nonce=row.set_nonce,
                signer=self._exchange.me,
                signature=row.signature,
            )
            for row in rows
        ]
        set_items(self._engine, [(row.job_id, row.evidence_hash, {"pushed_at": now}) for row in rows])
        self._exchange.push(again)

    def records(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], EvidenceRecord]:
        """The stored items as the records peers are sent (without the bundles' bytes)."""
        with self._engine.connect() as db:
            rows = db.execute(RECORDS, of_jobs(job_id for job_id, _ in keys)).all()
        return {
            (row.job_id, row.evidence_hash): EvidenceRecord(
                terms=stored_terms(row.terms),
                evidence_hash=row.evidence_hash,
                uri=row.uri,
                worker=row.worker,
                deadline=row.deadline,
                signature=row.signature,
            )
            for row in rows
        }
