"""A log cursor over any contracts and events, persisted, that rewinds to the common ancestor after a reorg.

anvil (and some RPCs) never deliver `removed` logs, so reorgs are found by block hash: the hash of
the cursor block and of every block that held a log are stored and compared with the chain.
"""

import logging
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine, delete, select, update

from .chain import Block, BlockRef, Chain, Log
from .db import transaction, upsert, upsert_many
from .errors import RpcError, WrongDeployment
from .metrics import RuntimeMetrics
from .tables import blocks, cursor

log = logging.getLogger(__name__)
KEPT_BLOCKS = 1_024  # block hashes kept for finding the common ancestor
CHUNKS_PER_PASS = 8  # a long catch-up yields to the rest of the loop (receipts, health) between ranges
E = TypeVar("E")


class LogHandler(Protocol[E]):
    """What a daemon makes of the logs it follows: decoded events in, and out again after a reorg."""

    def decode(self, log: Log) -> E:
        """The event in `log` (pure; never raises on what a contract let anyone emit)."""
        ...

    def ingest(self, db: Connection, events: list[E]) -> int:
        """Records `events` in the cursor's database transaction; returns how many are new work."""
        ...

    def orphaned(self, db: Connection, after: int) -> None:
        """Blocks above `after` left the chain: undo what came from them, in the rewind's transaction."""
        ...


@dataclass(frozen=True)
class LogFilter:
    """Which logs a cursor reads: those of `addresses` whose first topic is one of `topics`."""

    addresses: tuple[str, ...]
    topics: tuple[str, ...]


class LogCursor(Generic[E]):
    """Reads the logs of `source` from a persisted position into `handler`, in order, reorg-safe."""

    def __init__(
        self,
        chain: Chain,
        engine: Engine,
        metrics: RuntimeMetrics,
        source: LogFilter,
        handler: LogHandler[E],
        start_block: int,  # first block read on an empty database
        chunk: int,  # most blocks per eth_getLogs request; halved while the RPC refuses a range
    ) -> None:
        self._chain, self._engine, self._metrics = chain, engine, metrics
        self._source, self._handler = source, handler
        self._start_block, self._chunk = start_block, chunk
        self._watching = ",".join(source.addresses)
        self._identity: tuple[int, str] | None = None

    def bind(self, chain_id: int, signer: str) -> None:
        """Refuses a database that followed another chain or contracts, or sent with another key."""
        with self._engine.connect() as db:
            row = db.execute(select(cursor)).first()
        here = (chain_id, self._watching, signer)
        if row is not None and (row.chain_id, row.watching, row.signer) != here:
            raise WrongDeployment(
                f"the database belongs to {row.signer} watching {row.watching} (chain {row.chain_id}), "
                f"not {signer} watching {self._watching} (chain {chain_id}): use another database_url"
            )
        self._identity = (chain_id, signer)

    def position(self) -> int:
        """The last block whose logs are in the store."""
        with self._engine.connect() as db:
            row = db.execute(select(cursor.c.number)).first()
        return row.number if row is not None else self._start_block - 1

    def anchor(self) -> BlockRef | None:
        """The last block whose logs are in the store, by number and hash: what the daemon has seen of
        the chain, to pin reads to. None before the first range is ingested."""
        with self._engine.connect() as db:
            row = db.execute(select(cursor.c.number, cursor.c.hash)).first()
        return BlockRef(row.number, row.hash) if row is not None and row.hash else None

    def poll(self, head: int) -> int:
        """Ingests logs up to `head`, at most CHUNKS_PER_PASS ranges, after rewinding past any reorg.

        Each range is read in one batch with its first and last block, must continue the stored
        cursor (its first block's parent is the cursor's block), and its last block must be unchanged
        after the logs are read; otherwise the pass stops and the next one rewinds. An RPC without
        the cursor's block or a range's last block is behind (a lagging backend of a load-balanced
        RPC): nothing is read from it this pass. Returns how many events the handler counted as new.
        """
        if not self._rewind_if_reorged():
            return 0
        with self._engine.connect() as db:
            row = db.execute(select(cursor.c.number, cursor.c.hash)).first()
        first, parent = (row.number + 1, row.hash) if row is not None else (self._start_block, "")
        new = 0
        for _ in range(CHUNKS_PER_PASS):
            if first > head:
                break
            last = min(head, first + self._chunk - 1)
            try:
                span = self._chain.span(self._source.addresses, self._source.topics, first, last)
            except RpcError as error:
                if self._chunk == 1:
                    raise
                self._chunk = max(1, self._chunk // 2)  # the RPC refuses ranges this wide
                log.warning("log range refused (%s); now %d blocks per request", error, self._chunk)
                break
            start, tip, logs = span.first, span.last, span.logs
            if start is None or tip is None or (parent and start.parent_hash != parent):
                break  # behind, or the chain moved under us; the next pass finds out which
            again = self._chain.block(last)
            if again is None or again.hash != tip.hash:
                break
            new += self._ingest(logs, tip)
            first, parent = last + 1, tip.hash
        return new

    def _ingest(self, logs: list[Log], tip: Block) -> int:
        if self._identity is None:
            raise RuntimeError("LogCursor.bind() must be called before poll()")
        chain_id, signer = self._identity
        events = [self._handler.decode(entry) for entry in logs]
        # What the logs say is derived from the chain: lost with power, it is read again (as after a reorg).
        with transaction(self._engine, durable=False) as db:
            seen = {entry.block_number: entry.block_hash for entry in logs} | {tip.number: tip.hash}
            upsert_many(db, blocks, "number", [{"number": n, "hash": h} for n, h in seen.items()])
            new = self._handler.ingest(db, events)
            upsert(db, cursor, "id", id=1, number=tip.number, hash=tip.hash, chain_id=chain_id,
                   watching=self._watching, signer=signer)  # fmt: skip
            db.execute(delete(blocks).where(blocks.c.number < tip.number - KEPT_BLOCKS))
        return new

    def _rewind_if_reorged(self) -> bool:
        """Rewinds to the common ancestor after a reorg; False when the RPC is behind the cursor."""
        with self._engine.connect() as db:
            row = db.execute(select(cursor)).first()
        if row is None or not row.hash:  # nothing ingested yet, or rewound past every known block
            return True
        canonical = self._chain.block(row.number)
        if canonical is None:  # a backend behind the cursor, not a reorg: ask again next pass
            log.info("the RPC has no block %s (the cursor's) yet: behind", row.number)
            return False
        if canonical.hash == row.hash:
            return True
        with self._engine.connect() as db:
            known = db.execute(
                select(blocks).where(blocks.c.number < row.number).order_by(blocks.c.number.desc())
            ).all()
        hashes = self._chain.block_hashes([b.number for b in known])
        if None in hashes:  # a block we hold is missing, not replaced: behind, and no ancestor to trust
            return False
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
            self._handler.orphaned(db, back_to)
        return True
