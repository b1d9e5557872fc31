"""Who sends, and what: the leader of a job sends the quorum's signatures once it holds them; the next
in line takes over after `takeover_delay` each; without a quorum after `fallback_delay`, the worker's
evidence goes on chain (`submitEvidenceFor`) and the operators attest one by one.

Every send is dry-run first and claimed once per (job, evidence hash, kind) for this key; a verdict
already on chain ends the item, so in the normal case exactly one transaction carries each verdict.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, Row, bindparam, select, update

from protocol_core.enums import JobStatus
from protocol_core.handoff import compact_bytes
from protocol_core.relayed import SignedEvidence
from runtime.db import transaction
from runtime.sender import Call, Sender

from .metrics import NodeMetrics
from .operators import CurrentSet, OperatorSet, turn_at
from .relay_contracts import (
    JobView,
    RelayReads,
    attest_with_signatures_call,
    settled,
    submit_and_attest_call,
    submit_evidence_for_call,
)
from .relay_sends import ATTEST_WITH_SIGNATURES, SUBMIT_AND_ATTEST, SUBMIT_EVIDENCE_FOR, RelaySend, claim
from .relay_store import (
    SIGNATURES,
    ItemState,
    by_key,
    of_jobs,
    relay_items,
    set_items,
    set_items_in,
    stored_terms,
)
from .store import EvidenceState, evidence

log = logging.getLogger(__name__)
ROWS = 512  # signed items looked at per pass
GAS_MARGIN = 100_000  # added to the dry run's estimate
DRY_RUN_RETRY = 1.0  # seconds before an item whose dry run failed is looked at again
MAX_DRY_RUNS = 5  # failed dry runs before an item is left to the on-chain path
EVIDENCE_DONE = (  # chain evidence whose verdict a relayed send put on chain: one statement for a batch
    update(evidence)
    .where(evidence.c.job_id == bindparam("key_job"))
    .where(evidence.c.evidence_hash == bindparam("key_hash"))
    .where(evidence.c.state == EvidenceState.SEEN)
    .values(state=EvidenceState.DONE, detail=bindparam("detail"))
)


class Leader:
    """Turns signed items into at most one send each, when it is this node's turn."""

    def __init__(
        self,
        engine: Engine,
        reads: RelayReads,
        operators: OperatorSet,
        sender: Sender,
        takeover_delay: float,  # seconds each operator ahead in the succession gets before the next acts
        patience: Callable[[float], float],  # seconds without a quorum before the on-chain fallback
        metrics: NodeMetrics,
        shortest_delay: float,  # the least patience ever gives (fallback_delay while no peer answers)
    ) -> None:
        self._metrics, self._shortest_delay = metrics, shortest_delay
        self._members: tuple[frozenset[str], int, int] | None = None  # the set at the last pass
        self._engine, self._reads, self._operators, self._sender = engine, reads, operators, sender
        self._takeover_delay, self._patience = takeover_delay, patience
        self._fallback_delay = 0.0  # set at every pass: longer while the peers answer
        self._gas: dict[str, int] = {}  # kind of send -> the most gas an estimate of it has said

    def advance(self, head: int) -> int:
        """Looks at every signed item due now; returns how many moved."""
        now = time.time()
        current = self._operators.current()
        # An item waiting for its turn is not looked at again before it (retry_at), unless the set
        # changes: then every signed item is, since the succession (and so each turn) may have.
        members, self._members = self._members, (current.eligible, current.quorum, current.set_nonce)
        query = select(relay_items).where(relay_items.c.state == ItemState.SIGNED)
        if members == self._members:
            query = query.where(relay_items.c.retry_at <= now)
        with self._engine.connect() as db:
            rows = db.execute(query.order_by(relay_items.c.received_at).limit(ROWS)).all()
        if not rows:
            return 0
        self._fallback_delay = self._patience(now)
        held = self._signatures(rows, current)
        quorum_at = self._quorum_times(rows, held, current, now)
        # The chain is read only for items that could act now: a quorum in our turn, or the fallback due.
        due, later = [], []
        for row in rows:
            since = quorum_at.get((row.job_id, row.evidence_hash))
            if self._due(row, current, now, since):
                due.append(row)
            elif since is not None and now < row.received_at + self._shortest_delay:  # no fallback yet
                turn = self._turn(row, current, since)
                if turn is not None:  # never earlier than a backoff it has (a failed dry run)
                    at = max(min(turn, row.received_at + self._shortest_delay), row.retry_at)
                    later.append({"key_job": row.job_id, "key_hash": row.evidence_hash, "retry_at": at})
        if later:
            with transaction(self._engine, durable=False) as db:  # lost: looked at again at once
                db.execute(by_key(update(relay_items)).values(retry_at=bindparam("retry_at")), later)
        views = self._reads.jobs([row.job_id for row in due]) if due else []
        calls: list[Call[RelaySend]] = []
        moves: list[tuple[Row[Any], str, str]] = []
        for row, view in zip(due, views, strict=True):
            key = (row.job_id, row.evidence_hash)
            outcome = self._decide(row, view, current, now, held.get(key, {}), quorum_at.get(key))
            if isinstance(outcome, Call):
                calls.append(outcome)
            elif outcome is not None:
                moves.append((row, *outcome))
        if moves:
            states = [(row.job_id, row.evidence_hash, {"state": s, "detail": d}) for row, s, d in moves]
            done = [  # the verdict is on chain: nothing for the one-by-one path
                {"key_job": row.job_id, "key_hash": row.evidence_hash, "detail": detail}
                for row, state, detail in moves
                if state == ItemState.DONE
            ]
            with transaction(self._engine, durable=False) as db:  # read from the chain again if lost
                set_items_in(db, states)
                if done:
                    db.execute(EVIDENCE_DONE, done)
        return len(moves) + self._send(calls, head)

    def _quorum_times(
        self,
        rows: Sequence[Row[Any]],
        held: dict[tuple[str, str], dict[str, str]],
        current: CurrentSet,
        now: float,
    ) -> dict[tuple[str, str], float]:
        """When this node first held a quorum of each item's verdict (stored the first time it does):
        turns count from there, so that a leader that is merely busy (a backlog) is not overtaken."""
        times = {(row.job_id, row.evidence_hash): row.quorum_at for row in rows if row.quorum_at is not None}
        new = [
            key
            for row in rows
            if (key := (row.job_id, row.evidence_hash)) not in times
            and len(held.get(key, {})) >= current.quorum
        ]
        # lost: a later quorum_at, a later turn
        set_items(self._engine, [(*key, {"quorum_at": now}) for key in new])
        times.update((key, now) for key in new)
        return times

    def _turn(self, row: Row[Any], current: CurrentSet, since: float) -> float | None:
        return turn_at(
            row.job_id, sorted(current.eligible), self._sender.address, since, self._takeover_delay
        )

    def _due(self, row: Row[Any], current: CurrentSet, now: float, quorum_at: float | None) -> bool:
        if now >= row.received_at + self._fallback_delay:
            return True
        turn = None if quorum_at is None else self._turn(row, current, quorum_at)
        return turn is not None and now >= turn

    def _decide(
        self,
        row: Row[Any],
        view: JobView,
        current: CurrentSet,
        now: float,
        signers: dict[str, str],
        quorum_at: float | None,
    ) -> Any:
        """A Call to send, a (state, detail) to move to, or None to wait."""
        moved = settled(row, view)
        if moved is not None:
            return moved
        on_chain = view.status == JobStatus.SUBMITTED
        signers = dict(signers)
        me = self._sender.address
        fallback_turn = self._turn(row, current, row.received_at + self._fallback_delay)
        if fallback_turn is None:
            return None  # not in the set now: the standing watch says why; nothing to send
        turn = self._turn(row, current, quorum_at) if quorum_at is not None else None
        terms = stored_terms(row.terms)
        if turn is not None and now >= turn:
            ours = [signers.pop(me)] if me in signers else []
            if on_chain:  # someone put the evidence on chain: the signatures go without it
                approvers, rejecters = self._reads.tally(row.job_id)
                earlier = len(approvers if row.approve else rejecters)
                fresh = ours + [sig for who, sig in signers.items() if who not in approvers | rejecters]
                chosen = fresh[: max(1, current.quorum - earlier)]
                if chosen and earlier + len(chosen) >= current.quorum:
                    data = attest_with_signatures_call(
                        row.job_id,
                        row.evidence_hash,
                        row.approve,
                        row.reason,
                        terms,
                        [compact_bytes(sig) for sig in chosen],
                    )
                    return self._call(row, self._reads.oracle, data, ATTEST_WITH_SIGNATURES)
            elif len(ours) + len(signers) >= current.quorum:
                chosen = (ours + list(signers.values()))[: current.quorum]
                data = submit_and_attest_call(
                    terms,
                    _signed_evidence(row),
                    row.approve,
                    row.reason,
                    [compact_bytes(sig) for sig in chosen],
                )
                return self._call(row, self._reads.oracle, data, SUBMIT_AND_ATTEST)
        if now < row.received_at + self._fallback_delay:
            return None
        if on_chain or row.source != "intake":
            return ItemState.FALLBACK, "no quorum of signatures in time: attesting on chain one by one"
        if now >= fallback_turn:  # the worker's evidence on chain, by one operator in turn
            return self._call(
                row,
                self._reads.escrow,
                submit_evidence_for_call(row.job_id, _signed_evidence(row)),
                SUBMIT_EVIDENCE_FOR,
            )
        return None

    def _signatures(
        self, rows: Sequence[Row[Any]], current: CurrentSet
    ) -> dict[tuple[str, str], dict[str, str]]:
        """Per item, signer -> signature of the item's verdict, by current eligible operators only."""
        verdicts = {(row.job_id, row.evidence_hash): (row.approve, row.reason) for row in rows}
        with self._engine.connect() as db:
            found = db.execute(
                SIGNATURES, {**of_jobs(row.job_id for row in rows), "nonce": current.set_nonce}
            )
        held: dict[tuple[str, str], dict[str, str]] = {}
        for sig in found:
            key = (sig.job_id, sig.evidence_hash)
            if verdicts.get(key) == (sig.approve, sig.reason) and sig.signer in current.eligible:
                held.setdefault(key, {})[sig.signer] = sig.signature
        return held

    def _call(self, row: Row[Any], to: str, data: bytes, kind: str) -> Call[RelaySend]:
        return Call(to, data, 0, RelaySend(row.job_id, row.evidence_hash, kind), row.received_at)

    def _send(self, calls: list[Call[RelaySend]], head: int) -> int:
        if not calls:
            return 0
        # A kind of send whose gas was estimated before is dry-run with the most it took plus the margin.
        bounds = [self._gas[c.purpose.kind] + GAS_MARGIN if c.purpose.kind in self._gas else 0 for c in calls]
        dry_runs = self._reads.dry_runs(self._sender.address, [(c.to, c.data) for c in calls], bounds)
        passing = []
        for call, bound, gas in zip(calls, bounds, dry_runs, strict=True):
            if isinstance(gas, int):
                if gas != bound:  # estimated
                    self._gas[call.purpose.kind] = max(gas, self._gas.get(call.purpose.kind, 0))
                passing.append(replace(call, gas=bound if gas == bound else gas + GAS_MARGIN))
                continue
            log.info("not sending %s now: %s", call.purpose.kind, gas, extra={"job_id": call.purpose.job_id})
            self._dry_run_failed(call.purpose, gas)
        for sent in self._sender.send(passing, head, claim):
            self._metrics.relay_sends.labels(kind=sent.purpose.kind).inc()
            log.info(
                "%s sent",
                sent.purpose.kind,
                extra={"job_id": sent.purpose.job_id, "tx_hash": sent.tx_hash, "nonce": sent.nonce},
            )
        return len(calls)

    def _dry_run_failed(self, send: RelaySend, revert: str) -> None:
        with transaction(self._engine, durable=False) as db:
            attempts = (
                1
                + db.execute(
                    select(relay_items.c.attempts)
                    .where(relay_items.c.job_id == send.job_id)
                    .where(relay_items.c.evidence_hash == send.evidence_hash)
                ).scalar_one()
            )
            give_up = attempts >= MAX_DRY_RUNS or send.kind == SUBMIT_EVIDENCE_FOR
            db.execute(
                update(relay_items)
                .where(relay_items.c.job_id == send.job_id)
                .where(relay_items.c.evidence_hash == send.evidence_hash)
                .values(
                    attempts=attempts,
                    retry_at=time.time() + DRY_RUN_RETRY,
                    detail=f"dry run: {revert}",
                    **({"state": ItemState.FALLBACK} if give_up else {}),
                )
            )


def _signed_evidence(row: Row[Any]) -> SignedEvidence:
    return SignedEvidence(
        bytes.fromhex(row.evidence_hash[2:]), row.uri, row.deadline, compact_bytes(row.signature)
    )
