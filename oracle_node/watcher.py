"""Follows the escrow's logs from a persisted cursor and rewinds to the common ancestor after a reorg.

anvil (and some RPCs) never deliver `removed` logs, so reorgs are found by block hash: the hash of
the cursor block and of every block that held an event are stored and compared with the chain.
"""

import logging
import time

from sqlalchemy import Connection, Engine, delete, select, update

from .chain import Block, Chain, Posted, Submitted
from .errors import ChainUnavailable, RpcError, WrongDeployment
from .metrics import NodeMetrics
from .store import EvidenceState, blocks, cursor, evidence, insert_ignore, jobs, transaction, upsert

log = logging.getLogger(__name__)
KEPT_BLOCKS = 1_024  # block hashes kept for finding the common ancestor
CHUNKS_PER_PASS = 8  # a long catch-up yields to the rest of the loop (receipts, health) between ranges


class Watcher:
    """Ingests JobPosted and EvidenceSubmitted logs into the store, reorg-safe."""

    def __init__(
        self, chain: Chain, engine: Engine, metrics: NodeMetrics, start_block: int, chunk: int
    ) -> None:
        self._chain, self._engine, self._metrics = chain, engine, metrics
        self._start_block, self._chunk = start_block, chunk

    def check_deployment(self, chain_id: int, operator: str) -> None:
        """Refuses a database that followed another chain or escrow, or sent with another key."""
        with self._engine.connect() as db:
            row = db.execute(select(cursor)).first()
        here = (chain_id, self._chain.escrow.address, operator)
        if row is not None and (row.chain_id, row.escrow, row.operator) != here:
            raise WrongDeployment(
                f"the database belongs to operator {row.operator} on escrow {row.escrow} (chain "
                f"{row.chain_id}), not {operator} on {here[1]} (chain {chain_id}): use another "
                "ORACLE_NODE_DATABASE_URL"
            )

    def cursor(self) -> int:
        """The last block whose logs are in the store."""
        with self._engine.connect() as db:
            row = db.execute(select(cursor.c.number)).first()
        return row.number if row is not None else self._start_block - 1

    def poll(self, head: int, chain_id: int, operator: str) -> int:
        """Ingests logs up to `head`, at most CHUNKS_PER_PASS ranges, after rewinding past any reorg.

        Each range must continue the stored cursor (its first block's parent is the cursor's block)
        and its last block must be unchanged after the logs are read; otherwise the pass stops and
        the next one rewinds. Returns how many submissions were new.
        """
        self._rewind_if_reorged()
        with self._engine.connect() as db:
            row = db.execute(select(cursor.c.number, cursor.c.hash)).first()
        first, parent = (row.number + 1, row.hash) if row is not None else (self._start_block, "")
        new = 0
        for _ in range(CHUNKS_PER_PASS):
            if first > head:
                break
            last = min(head, first + self._chunk - 1)
            start, tip = self._chain.block(first), self._chain.block(last)
            if start is None or tip is None or (parent and start.parent_hash != parent):
                break  # the chain moved under us; the next pass finds out how
            try:
                logs = self._chain.logs(first, last)
            except RpcError as error:
                if self._chunk == 1:
                    raise
                self._chunk = max(1, self._chunk // 2)  # the RPC refuses ranges this wide
                log.warning("log range refused (%s); now %d blocks per request", error, self._chunk)
                break
            again = self._chain.block(last)
            if again is None or again.hash != tip.hash:
                break
            new += self._ingest(logs, tip, chain_id, operator)
            first, parent = last + 1, tip.hash
        return new

    def _ingest(self, logs: list[Posted | Submitted], tip: Block, chain_id: int, operator: str) -> int:
        now = time.time()
        with transaction(self._engine) as db:
            for entry in logs:
                _remember_block(db, entry.block_number, entry.block_hash)
                if isinstance(entry, Posted):
                    if "0x" + entry.terms.digest().hex() == entry.job_id:  # the id is the terms' hash
                        insert_ignore(db, jobs, job_id=entry.job_id, terms=entry.terms.model_dump_json())
                    continue
                self._metrics.events_seen.labels(event="EvidenceSubmitted").inc()
                _record_submission(db, entry, now)
            _remember_block(db, tip.number, tip.hash)
            upsert(db, cursor, "id", id=1, number=tip.number, hash=tip.hash, chain_id=chain_id,
                   escrow=self._chain.escrow.address, operator=operator)  # fmt: skip
            db.execute(delete(blocks).where(blocks.c.number < tip.number - KEPT_BLOCKS))
        return sum(isinstance(entry, Submitted) for entry in logs)

    def _rewind_if_reorged(self) -> None:
        with self._engine.connect() as db:
            row = db.execute(select(cursor)).first()
        if row is None or not row.hash:  # nothing ingested yet, or rewound past every known block
            return
        canonical = self._chain.block(row.number)
        if canonical is None:
            raise ChainUnavailable(f"the RPC has no block {row.number} (the node's cursor): is it behind?")
        if canonical.hash == row.hash:
            return
        with self._engine.connect() as db:
            known = db.execute(
                select(blocks).where(blocks.c.number < row.number).order_by(blocks.c.number.desc())
            ).all()
        hashes = self._chain.block_hashes([b.number for b in known])
        ancestor = next((b for b, now in zip(known, hashes, strict=True) if now == b.hash), None)
        back_to = ancestor.number if ancestor is not None else self._start_block - 1
        back_hash = ancestor.hash if ancestor is not None else ""
        log.warning(
            "reorg: block %s changed; rewinding to %s", row.number, back_to, extra={"ancestor": back_to}
        )
        self._metrics.reorgs.inc()
        with transaction(self._engine) as db:
            db.execute(delete(blocks).where(blocks.c.number > back_to))
            db.execute(update(cursor).values(number=back_to, hash=back_hash))
            db.execute(
                update(evidence)
                .where(evidence.c.block_number > back_to)
                .where(evidence.c.state.in_([EvidenceState.SEEN, EvidenceState.VERIFYING]))
                .values(state=EvidenceState.ORPHANED)
            )


def _remember_block(db: Connection, number: int, block_hash: str) -> None:
    upsert(db, blocks, "number", number=number, hash=block_hash)


def _record_submission(db: Connection, entry: Submitted, now: float) -> None:
    """A new work item, or the same (job, hash) seen again in another block (a re-submission)."""
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
        return
    state = (
        EvidenceState.SEEN
        if existing.state in (EvidenceState.ORPHANED, EvidenceState.SKIPPED)
        else existing.state
    )
    db.execute(update(evidence).where(evidence.c.id == existing.id).values(state=state, **placed))
    log.info("evidence seen again", extra={"job_id": entry.job_id, "block": entry.block_number})
