"""The desk's half of the learning loop: each escalated job that ends paid, or refunded after its worker
submitted evidence, becomes one `Resolution` line in the learning log, redacted, exactly once.

A job is written once it has been final for `confirmations` blocks and the chain, read again, still
says so; a reorg that undid the end drops the pending record and marks the job for a re-read. The
log is appended at a recorded offset: a line cut short by a crash is rewritten, never repeated.
"""

import logging
import os
from pathlib import Path
from typing import Any

from eth_abi import decode
from pydantic import ValidationError
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    delete,
    exists,
    select,
    update,
)

from escalation.learning import Resolution
from escalation.models import Message, Ticket
from escalation.redact import redact
from protocol_core.abi import abi
from protocol_core.content import ContentClient, ContentError
from protocol_core.context import ContextBundle
from protocol_core.enums import JobStatus
from protocol_core.errors import ProtocolError
from protocol_core.evidence import EvidenceBundle
from runtime.abi import event_topic
from runtime.db import transaction
from runtime.tables import transactions

from .contracts import DeskContracts
from .requests import DeskStatus, EscalationRequest
from .tables import calls, jobs

log = logging.getLogger(__name__)
EVIDENCE = event_topic(abi("JobEscrow"), "EvidenceSubmitted")
VERDICTS = {JobStatus.PAID: "approved", JobStatus.REFUNDED: "rejected"}

metadata = MetaData()  # the feed's own table, beside the desk's (escalation.desk.tables)
fed = Table(
    "desk_learning",
    metadata,
    Column("desk_id", String(40), primary_key=True),
    Column("seen_head", BigInteger, nullable=False),  # the head of the pass that first saw the job final
    Column("line", Text),  # the Resolution as JSON once built; "" when the job has nothing to learn
    Column("note", Text),  # why nothing (no evidence, no bundle in the store, a ticket that does not parse)
    Column("at", BigInteger),  # the log's size before the line: where it goes, again after a crash
    Column("written", Boolean, nullable=False, default=False),
)


class LearningFeed:
    """Appends verified resolutions of the desk's jobs to `path` (one JSON line each), once each."""

    def __init__(
        self,
        engine: Engine,
        contracts: DeskContracts,
        store: ContentClient,
        path: Path,
        confirmations: int = 12,
        chunk: int = 2_000,  # most blocks per eth_getLogs request when looking for the evidence
    ) -> None:
        self.engine, self.contracts, self.store, self.path = engine, contracts, store, Path(path)
        self.confirmations, self.chunk = confirmations, chunk
        metadata.create_all(engine)

    def run_once(self, head: int) -> int:
        """Finishes a cut line, notes jobs newly final, writes those confirmed; returns lines written.
        A log that cannot be written (a full disk, no permission) is logged and retried at the next pass."""
        try:
            return self._pass(head)
        except OSError as error:
            log.error("learning log %s not written: %s; the desk retries every pass", self.path, error)
            return 0

    def _pass(self, head: int) -> int:
        self._finish_pending()
        final = [DeskStatus.PAID, DeskStatus.REFUNDED]
        noted = exists().where(fed.c.desk_id == jobs.c.desk_id)
        with transaction(self.engine) as db:
            new = db.execute(select(jobs.c.desk_id).where(jobs.c.status.in_(final)).where(~noted)).scalars()
            for desk_id in list(new):
                db.execute(fed.insert().values(desk_id=desk_id, seen_head=head, written=False))
            due = db.execute(
                select(jobs, fed.c.seen_head).join(fed, fed.c.desk_id == jobs.c.desk_id)
                .where(fed.c.line.is_(None)).where(fed.c.seen_head + self.confirmations <= head)
            ).all()  # fmt: skip
        return sum(self._feed(row) for row in due)

    def _feed(self, row: Any) -> bool:
        job_id = bytes.fromhex(row.job_id[2:])
        status = self.contracts.escrow.job_state(job_id).status
        if status not in VERDICTS:  # a reorg undid the end: the follow loop reads the job again
            with transaction(self.engine) as db:
                db.execute(delete(fed).where(fed.c.desk_id == row.desk_id))
                db.execute(update(jobs).where(jobs.c.desk_id == row.desk_id).values(dirty=True))
            return False
        evidence = self._evidence(row)
        if evidence is None:  # refunded unaccepted or without evidence: no human resolved anything
            return self._skip(row.desk_id, "no evidence was submitted")
        summary, note = self._summary(evidence)
        try:
            resolution = Resolution(
                ticket=ticket_of(row), triggers=EscalationRequest.model_validate_json(row.request).triggers,
                summary=redact(summary)[0], verdict=VERDICTS[status],  # type: ignore[arg-type]
                resolved_at=self._time_of(row.seen_head),
            )  # fmt: skip
        except ValidationError as error:
            return self._skip(row.desk_id, f"the ticket is not one the engine reads: {error}")
        line = resolution.model_dump_json()
        with transaction(self.engine) as db:
            at = self._size()
            db.execute(update(fed).where(fed.c.desk_id == row.desk_id).values(line=line, note=note, at=at))
        self._append(row.desk_id, line, at)
        return True

    def _skip(self, desk_id: str, note: str) -> bool:
        log.info("no learning line for %s: %s", desk_id, note)
        with transaction(self.engine) as db:
            db.execute(update(fed).where(fed.c.desk_id == desk_id).values(line="", note=note, written=True))
        return False

    def _finish_pending(self) -> None:
        """A line recorded but not marked written (a crash in between) is written again at its offset."""
        with self.engine.connect() as db:
            pending = db.execute(
                select(fed).where(fed.c.written.is_(False)).where(fed.c.line.is_not(None))
            ).all()  # fmt: skip
        for row in pending:
            self._append(row.desk_id, row.line, row.at)

    def _append(self, desk_id: str, line: str, at: int) -> None:
        data = (line + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            handle.seek(0, os.SEEK_END)
            end = handle.tell()
            handle.seek(min(at, end))
            if handle.read(len(data)) != data:  # not there, or cut short: from the offset, again
                handle.truncate(min(at, end))
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        with transaction(self.engine) as db:
            db.execute(update(fed).where(fed.c.desk_id == desk_id).values(written=True))

    def _size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def _time_of(self, number: int) -> int:
        block = self.contracts.chain.block(number)
        return block.timestamp if block is not None else 0

    def _evidence(self, row: Any) -> str | None:
        """The hash of the last evidence the job's worker submitted, from the escrow's logs."""
        first, found = self._posted_at(row.desk_id), None
        for start in range(first, row.seen_head + 1, self.chunk):
            query = {
                "address": self.contracts.escrow.address, "topics": [EVIDENCE, row.job_id],
                "fromBlock": hex(start), "toBlock": hex(min(start + self.chunk - 1, row.seen_head)),
            }  # fmt: skip
            for entry in self.contracts.chain.rpc.result("eth_getLogs", query):
                if not entry.get("removed"):
                    evidence_hash, _ = decode(["bytes32", "string"], bytes.fromhex(entry["data"][2:]))
                    found = "0x" + evidence_hash.hex()
        return found

    def _posted_at(self, desk_id: str) -> int:
        """The block the job's post was sent at (no evidence is older); 0 when the desk has no record."""
        with self.engine.connect() as db:
            sent = db.execute(
                select(transactions.c.mined_block, transactions.c.broadcast_block)
                .join(calls, calls.c.nonce == transactions.c.nonce)
                .where(calls.c.desk_id == desk_id).where(calls.c.action == "post")
            ).all()  # fmt: skip
        return min((mined if mined is not None else broadcast for mined, broadcast in sent), default=0)

    def _summary(self, evidence_hash: str) -> tuple[str, str | None]:
        """The worker's summary from its bundle in the desk's store; empty (and why) when it is not there."""
        try:
            bundle = EvidenceBundle.parse(self.store.get(self.store.uri_of(evidence_hash), evidence_hash))
        except (ContentError, ProtocolError) as error:
            log.warning("no resolution summary for evidence %s: %s", evidence_hash, error)
            return "", f"summary empty: the evidence bundle is not in the desk's store ({error})"
        return bundle.summary, None


def ticket_of(row: Any) -> Ticket:
    """The escalated ticket as the engine reads it, from the job's redacted context, redacted again as
    training data is; the issue stands in for the customer when the conversation has no customer turn."""
    bundle = ContextBundle.parse(row.context)
    request = EscalationRequest.model_validate_json(row.request)
    turns = [m for m in bundle.conversation if m.role in ("customer", "agent") and m.text.strip()]
    messages = [Message(role=m.role, text=redact(m.text)[0], ts=m.ts) for m in turns]  # type: ignore[arg-type]
    if not any(m.role == "customer" for m in messages) and bundle.issue.strip():
        first = messages[0].ts if messages else 0
        messages.insert(0, Message(role="customer", text=redact(bundle.issue)[0], ts=first))
    confidence = request.agent_confidence if request.agent_confidence is not None else 0.0
    return Ticket(id=row.ticket_ref, language=bundle.language, messages=tuple(messages),
                  agent_confidence=confidence)  # fmt: skip
