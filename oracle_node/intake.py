"""Evidence handed in off chain, checked before any work: terms, the worker's signature, its deadline,
sizes, rate limits per worker and per job, and the job on chain; then stored once per (job, hash).

The HTTP layer (relay_http) turns a Refused into a 4xx answer; nothing refused is kept or retried.
"""

import logging
import time
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak
from sqlalchemy import Connection, Engine, bindparam, case, update

from protocol_core.eip712 import InvalidSignature
from protocol_core.enums import JobStatus
from protocol_core.handoff import EvidenceRecord
from runtime.db import insert_ignore_many, transaction

from .group_commit import GroupCommit
from .metrics import NodeMetrics
from .rate_limits import Buckets
from .relay_contracts import JobView, RelayReads
from .relay_store import ITEM_KEYS, ItemState, by_key, new_item, of_jobs, relay_items

log = logging.getLogger(__name__)
LACKING = ITEM_KEYS.where(relay_items.c.bundle.is_(None))
FILL = (  # the worker's bytes to an item held without them; a pending one is verified again at once
    by_key(update(relay_items))
    .where(relay_items.c.bundle.is_(None))
    .values(
        bundle=bindparam("bytes"),
        retry_at=case((relay_items.c.state == ItemState.PENDING, 0.0), else_=relay_items.c.retry_at),
    )
)
NEXT = {
    "accepted": "verifying; the operators exchange signatures and one of them sends the evidence, the "
    "verdict and the payout in one transaction (submitAndAttest)",
    "duplicate": "already received; nothing more to send",
    "on_chain": "the evidence is on chain already; the verdict follows with the quorum's signatures",
}


class Refused(Exception):
    """Input that will never be accepted as it is (or not now: 429); `status` is the HTTP status."""

    def __init__(self, status: int, code: str, detail: str, retry_after: float = 0.0) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.retry_after = status, code, detail, retry_after


@dataclass(frozen=True)
class Receipt:
    """What the worker gets back for accepted evidence."""

    job_id: str
    evidence_hash: str
    status: str  # accepted, duplicate, on_chain

    def as_json(self) -> dict[str, Any]:
        """The receipt as the HTTP answer's body."""
        return {
            "job_id": self.job_id,
            "evidence_hash": self.evidence_hash,
            "status": self.status,
            "next": NEXT[self.status],
        }


class Intake:
    """Checks and stores evidence records, from workers (rate-limited) and from peers."""

    def __init__(
        self,
        engine: Engine,
        reads: RelayReads,
        max_bytes: int,  # largest inline bundle (the node's evidence_max_bytes)
        per_worker: Buckets,
        per_job: Buckets,
        metrics: NodeMetrics,
    ) -> None:
        self._metrics = metrics
        self._engine, self._reads, self._max_bytes = engine, reads, max_bytes
        self._per_worker, self._per_job = per_worker, per_job
        self.chain_id = 0  # set when the node starts
        # workers handing in at once share one chain read and one flushed commit
        self._group: GroupCommit[EvidenceRecord, tuple[bool, bool]] = GroupCommit(self._take_many)

    def take(self, record: EvidenceRecord) -> Receipt:
        """Checks a worker's `record` and stores it; raises Refused with what is wrong."""
        try:
            receipt = self._take(record)
        except Refused as refused:
            self._metrics.relay_intake.labels(status=refused.code).inc()
            raise
        self._metrics.relay_intake.labels(status=receipt.status).inc()
        return receipt

    def _take(self, record: EvidenceRecord) -> Receipt:
        self._check_signed(record, required=True)
        self._check_bundle(record)
        # Counted once the worker's signature is known good: nobody can spend another's budget.
        for buckets, key, what in (
            (self._per_worker, record.worker, "worker"),
            (self._per_job, record.job_id, "job"),
        ):
            wait = buckets.take(str(key))
            if wait:
                raise Refused(429, "rate_limited", f"too many requests for this {what}; retry later", wait)
        on_chain, new = self._group.run(record)
        status = "on_chain" if on_chain else "accepted" if new else "duplicate"
        if new:
            log.info("evidence taken in", extra={"job_id": record.job_id, "status": status})
        return Receipt(record.job_id, record.evidence_hash, status)

    def _take_many(self, records: list[EvidenceRecord]) -> list[tuple[bool, bool] | Exception]:
        """Per worker record: (evidence already on chain, newly stored), or the Refused to answer."""
        views = self._reads.jobs([record.job_id for record in records])
        checked: list[bool | Exception] = []
        for record, view in zip(records, views, strict=True):
            try:
                checked.append(_check_job(record, view))
            except Refused as refused:
                checked.append(refused)
        # The job moved on (the quorum paid it before this hand-in came) with evidence this node holds:
        # the same evidence again, harmless, so a duplicate rather than a refusal.
        late = {_key(r) for r, c in zip(records, checked, strict=True) if _moved_on(c)}
        held = self._known(late) if late else set()
        fresh = [r for r, c in zip(records, checked, strict=True) if not isinstance(c, Exception)]
        new = self._store(fresh)
        return [
            (False, False) if _key(r) in held else c if isinstance(c, Exception) else (c, id(r) in new)
            for r, c in zip(records, checked, strict=True)
        ]

    def admit(self, records: list[EvidenceRecord]) -> list[Refused | None]:
        """A peer's records, checked as a worker's are (no rate limit), in one chain read and one
        database transaction; what is wrong with each (None: held now)."""
        known = self._known({_key(r) for r in records})
        problems: dict[tuple[str, str], Refused] = {}
        fresh: dict[tuple[str, str], EvidenceRecord] = {}
        for record in records:
            key = _key(record)
            if key in known or key in fresh or key in problems:
                continue
            try:
                self._check_signed(record, required=False)
                self._check_bundle(record)
            except Refused as refused:
                problems[key] = refused
                continue
            fresh[key] = record
        views = self._reads.jobs([record.job_id for record in fresh.values()]) if fresh else []
        good = []
        for (key, record), view in zip(fresh.items(), views, strict=True):
            try:
                _check_job(record, view)
                good.append(record)
            except Refused as refused:
                problems[key] = refused
        self._store(good, durable=False)  # a peer's: it sends them again while short of a quorum
        return [problems.get(_key(record)) for record in records]

    def _check_signed(self, record: EvidenceRecord, required: bool) -> None:
        if record.signature is None:
            if required:
                raise Refused(400, "unsigned", "the worker's Evidence signature is required")
            return
        if record.worker is None or record.deadline is None:
            raise Refused(400, "incomplete", "a signed record names its worker and deadline")
        if record.deadline < time.time():
            raise Refused(400, "expired", f"the evidence signature's deadline {record.deadline} has passed")
        try:
            signer = record.evidence_signer(chain_id=self.chain_id, escrow=self._reads.escrow)
        except InvalidSignature as error:
            raise Refused(400, "bad_signature", f"the evidence signature is invalid: {error}") from error
        if signer != record.worker:
            raise Refused(
                400,
                "bad_signature",
                f"the evidence signature recovers {signer}, not the worker {record.worker}: sign Evidence("
                "jobId, evidenceHash, uri, deadline) with the worker's key for this chain and escrow",
            )

    def _check_bundle(self, record: EvidenceRecord) -> None:
        if record.bundle is None:
            return
        raw = record.bundle.encode()
        if len(raw) > self._max_bytes:
            raise Refused(413, "oversized", f"the bundle is {len(raw)} bytes; at most {self._max_bytes}")
        if "0x" + keccak(raw).hex() != record.evidence_hash.lower():
            raise Refused(400, "hash_mismatch", "the bundle's UTF-8 bytes do not hash to evidence_hash")

    def _known(self, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        with self._engine.connect() as db:
            return _held(db, keys)

    def _store(self, records: list[EvidenceRecord], durable: bool = True) -> set[int]:
        """Stores each record not held yet, in one transaction; the id() of each that was new. A
        worker's is durable (its receipt is a promise); a peer's need not be (runtime.db)."""
        if not records:
            return set()
        now, new, rows = time.time(), set(), []
        with transaction(self._engine, durable) as db:
            held = _held(db, {_key(r) for r in records})
            for record in records:
                key = _key(record)
                if key in held:
                    continue
                held.add(key)
                new.add(id(record))
                rows.append(
                    new_item(
                        *key,
                        "intake" if record.signature else "chain",
                        now,
                        terms=record.terms.model_dump_json(),
                        worker=record.worker,
                        uri=record.uri,
                        deadline=record.deadline,
                        signature=record.signature,
                        bundle=record.bundle.encode() if record.bundle is not None else None,
                    )
                )
            insert_ignore_many(db, relay_items, rows)  # one statement for the batch
            # Then the bytes go to items held without them: told of by a peer first, even one that
            # inserted between our look and our insert (its row won, ours was ignored).
            filled = _fill_in(db, records)
        return new | {id(record) for record in filled}


def _fill_in(db: Connection, records: list[EvidenceRecord]) -> list[EvidenceRecord]:
    """Gives the worker's bytes to each held item of `records` that has none (an item waiting to verify
    again then goes at once); those it gave them to. One look for the batch, an update only where needed."""
    carrying = {_key(record): record.bundle.encode() for record in records if record.bundle is not None}
    if not carrying:
        return []
    lacking = db.execute(LACKING, of_jobs(job_id for job_id, _ in carrying)).all()
    keys = {(row.job_id, row.evidence_hash) for row in lacking} & carrying.keys()
    if keys:
        db.execute(
            FILL, [{"key_job": job, "key_hash": hash_, "bytes": carrying[job, hash_]} for job, hash_ in keys]
        )
    return [record for record in records if _key(record) in keys]


def _key(record: EvidenceRecord) -> tuple[str, str]:
    return record.job_id, record.evidence_hash.lower()


def _moved_on(checked: bool | Exception) -> bool:
    return isinstance(checked, Refused) and checked.code == "not_accepted"


def _held(db: Connection, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of `keys` (job id, evidence hash) are stored items, in one query."""
    rows = db.execute(ITEM_KEYS, of_jobs(job_id for job_id, _ in keys)).all()
    return {(row.job_id, row.evidence_hash) for row in rows} & keys


def _check_job(record: EvidenceRecord, view: JobView) -> bool:
    """Whether the evidence is on chain already; raises Refused when the job cannot take it."""
    if view.status == JobStatus.NONE:
        raise Refused(404, "unknown_job", f"no job {record.job_id} on chain: were these terms posted?")
    if view.status == JobStatus.SUBMITTED and view.evidence_hash == record.evidence_hash.lower():
        return True
    if view.status != JobStatus.ACCEPTED or record.signature is None:
        raise Refused(409, "not_accepted", f"job {record.job_id} is {view.status.name}, not Accepted")
    if view.worker != record.worker:
        raise Refused(
            403, "wrong_worker", f"job {record.job_id} was accepted by {view.worker}, not {record.worker}"
        )
    return False
