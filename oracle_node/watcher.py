"""Follows the escrow's logs from a persisted cursor and rewinds to the common ancestor after a reorg.

anvil (and some RPCs) never deliver `removed` logs, so reorgs are found by block hash: the hash of
the cursor block and of every block that held an event are stored and compared with the chain.
"""

import logging
import time

from sqlalchemy import Connection, Engine, delete, select, update

from .chain import Chain, Posted, Submitted
from .errors import WrongDeployment
from .metrics import NodeMetrics
from .store import EvidenceState, blocks, cursor, evidence, insert_ignore, jobs, transaction, upsert

log = logging.getLogger(__name__)
KEPT_BLOCKS = 1_024  # block hashes kept for finding the common ancestor


class Watcher:
    """Ingests JobPosted and EvidenceSubmitted logs into the store, reorg-safe."""

    def __init__(
        self, chain: Chain, engine: Engine, metrics: NodeMetrics, start_block: int, chunk: int
    ) -> None:
        self._chain, self._engine, self._metrics = chain, engine, metrics
        self._start_block, self._chunk = start_block, chunk

    def check_deployment(self, chain_id: int) -> None:
        """Refuses a database that followed another chain or escrow."""
        with self._engine.connect() as db:
            row = db.execute(select(cursor)).first()
        if row is not None and (row.chain_id != chain_id or row.escrow != self._chain.escrow.address):
            raise WrongDeployment(
                f"the database follows escrow {row.escrow} on chain {row.chain_id}, not "
                f"{self._chain.escrow.address} on chain {chain_id}: use another ORACLE_NODE_DATABASE_URL"
            )

    def cursor(self) -> int:
        """The last block whose logs are in the store."""
        with self._engine.connect() as db:
            row = db.execute(select(cursor.c.number)).first()
        return row.number if row is not None else self._start_block - 1

    def poll(self, head: int, chain_id: int) -> int:
        """Ingests logs up to `head` (after rewinding past any reorg); returns how many were new."""
        self._rewind_if_reorged()
        first = self.cursor() + 1
        new = 0
        while first <= head:
            last = min(head, first + self._chunk - 1)
            tip = self._chain.block(last)
            if tip is None:  # the head moved back under us: the next pass rewinds
                break
            new += self._ingest(self._chain.logs(first, last), tip.number, tip.hash, chain_id)
            first = last + 1
        return new

    def _ingest(self, logs: list[Posted | Submitted], number: int, block_hash: str, chain_id: int) -> int:
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
            _remember_block(db, number, block_hash)
            upsert(
                db,
                cursor,
                "id",
                id=1,
                number=number,
                hash=block_hash,
                chain_id=chain_id,
                escrow=self._chain.escrow.address,
            )
            oldest = number - KEPT_BLOCKS
            db.execute(delete(blocks).where(blocks.c.number < oldest))
        return sum(isinstance(entry, Submitted) for entry in logs)

    def _rewind_if_reorged(self) -> None:
        with self._engine.connect() as db:
            row = db.execute(select(cursor)).first()
            if row is None or not row.hash:  # nothing ingested yet, or rewound past every known block
                return
            known = db.execute(select(blocks).order_by(blocks.c.number.desc())).all()
        canonical = self._chain.block(row.number)
        if canonical is not None and canonical.hash == row.hash:
            return
        ancestor = next(
            (b for b in known if b.number < row.number and self._is_canonical(b.number, b.hash)), None
        )
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

    def _is_canonical(self, number: int, block_hash: str) -> bool:
        block = self._chain.block(number)
        return block is not None and block.hash == block_hash


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
