"""Following sent transactions: receipts, re-sending what a reorg dropped, fee bumps, foreign nonces.

The daemon's own rows follow along through TxHooks, called inside the same database transaction
as the change to the transaction's row.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Row, Update, bindparam, select, update

from .chain import BlockRef, Chain
from .db import transaction
from .metrics import RuntimeMetrics
from .sender import FeePolicy, Sender
from .tables import transactions

log = logging.getLogger(__name__)
BY_NONCE = transactions.c.nonce == bindparam("key_nonce")
MINED = (
    update(transactions)
    .where(BY_NONCE)
    .values(
        {name: bindparam(name) for name in ("state", "mined_block", "mined_hash", "succeeded", "tx_hash")}
    )
)
CONFIRMED = update(transactions).where(BY_NONCE).values(state="confirmed")


@dataclass(frozen=True)
class Mined:
    """A transaction that has just been mined."""

    nonce: int
    tx_hash: str
    succeeded: bool
    seconds_since_seen: float  # from the `seen_at` of its Call


class TxHooks(Protocol):
    """What a daemon's rows do when one of its transactions moves; each runs in the tracker's transaction."""

    def mined(self, db: Connection, nonce: int, tx_hash: str, succeeded: bool) -> None:
        """The transaction of `nonce` is mined, and did or did not revert."""
        ...

    def dropped(self, db: Connection, nonce: int) -> None:
        """Its block left the chain; the same signed bytes are being broadcast again."""
        ...

    def confirmed(self, db: Connection, nonce: int, succeeded: bool) -> None:
        """It is deep enough that it is no longer watched."""
        ...

    def abandoned(self, db: Connection, nonce: int, detail: str) -> None:
        """It will never be mined (its nonce was used by another transaction)."""
        ...


class Tracker:
    """Follows the sender's transactions until they are confirmed, re-signing and re-sending through it."""

    def __init__(
        self,
        sender: Sender,
        chain: Chain,
        engine: Engine,
        metrics: RuntimeMetrics,
        fees: FeePolicy,
        hooks: TxHooks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sender, self._chain, self._engine = sender, chain, engine
        self._metrics, self._fees, self._hooks, self._clock = metrics, fees, hooks, clock
        self._waiting_since: dict[int, float] = {}  # nonce -> when it was last signed (or first seen)
        self._reported: set[int] = set()  # nonces reported mined and not yet confirmed: reported once
        self._second_signer: tuple[float, list[int]] | None = None  # when, and which nonces
        self._stuck: dict[int, int] = {}  # pending nonce -> its fee bumps, when over the limit

    def tick(self, head: int, pin: BlockRef | None = None) -> list[Mined]:
        """Follows every unsettled transaction: records receipts, bumps the stuck, re-sends the dropped.

        `pin` is a block the daemon has seen: foreign nonces are judged only by an RPC that has it.
        """
        with self._engine.connect() as db:
            open_txs = db.execute(
                select(transactions).where(transactions.c.state.in_(["pending", "mined"]))
            ).all()
        mined: list[Mined] = []
        waiting = [tx for tx in open_txs if tx.state == "pending"]
        hashes = [h for tx in waiting for h in tx.hashes.split(",")]
        found = {h: r for h, r in zip(hashes, self._chain.receipts(hashes), strict=True) if r is not None}
        mined_blocks = sorted({tx.mined_block for tx in open_txs if tx.state == "mined"})
        canonical = dict(zip(mined_blocks, self._chain.block_hashes(mined_blocks), strict=True))
        unanswered = [tx for tx in waiting if not any(h in found for h in tx.hashes.split(","))]
        foreign = self._foreign(unanswered, pin) if unanswered else set()
        now = self._clock()
        for nonce in set(self._waiting_since) - {tx.nonce for tx in waiting}:
            del self._waiting_since[nonce]
        arrived: list[tuple[Row[Any], dict[str, Any]]] = []
        deep: list[Row[Any]] = []
        for tx in open_txs:
            if tx.state == "mined":
                if self._follow_mined(tx, head, canonical[tx.mined_block]):
                    deep.append(tx)
                continue
            since = self._waiting_since.setdefault(tx.nonce, now)  # a restart waits a full interval
            receipt = next((found[h] for h in tx.hashes.split(",") if h in found), None)
            if receipt is not None:
                arrived.append((tx, receipt))
            elif tx.nonce in foreign:
                self._give_up(tx, "its nonce was used by a transaction this daemon did not sign")
            elif (
                head - tx.broadcast_block >= self._fees.bump_blocks and now - since >= self._fees.bump_seconds
            ):
                self._bump(tx, head)
                self._waiting_since[tx.nonce] = now
            elif not self._chain.known(tx.tx_hash):  # never arrived, or evicted: send the same bytes again
                self._sender.broadcast(tx.raw, tx.nonce)
        for done in self._record(arrived, deep):
            if done.nonce not in self._reported:  # mined again after a reorg: counted once
                self._reported.add(done.nonce)
                mined.append(done)
        self._note_stuck()
        return mined

    def problem(self) -> str | None:
        """Why the sender is not healthy (a nonce re-signed too often, a second signer lately), or None."""
        if self._stuck:
            nonce, bumps = min(self._stuck.items())
            return (
                f"nonce {nonce} re-signed {bumps} times without being mined (limit "
                f"{self._fees.stuck_bumps}): fees below the market at max_fee_cap_gwei, or the RPC drops it"
            )
        if self._second_signer is not None:
            seen, nonces = self._second_signer
            ago = self._clock() - seen
            if ago < self._fees.signer_alarm:
                return (
                    f"a second signer used nonces {nonces} of {self._sender.address} {ago:.0f}s ago: run "
                    "one daemon per key, and send from the key only while the daemon is stopped"
                )
        return None

    def _note_stuck(self) -> None:
        """Counts pending transactions and notes those re-signed beyond the limit (every signed version
        is kept, so nothing resets the count)."""
        with self._engine.connect() as db:
            pending = db.execute(
                select(transactions.c.nonce, transactions.c.hashes).where(transactions.c.state == "pending")
            ).all()
        self._metrics.pending_transactions.set(len(pending))
        bumps = {row.nonce: row.hashes.count(",") for row in pending}
        self._stuck = {n: b for n, b in bumps.items() if b > self._fees.stuck_bumps}

    def _foreign(self, unanswered: list[Row[Any]], pin: BlockRef | None) -> set[int]:
        """Nonces of ours the chain has used for a transaction without any of our hashes.

        With `pin`, the key's nonce at that block and the receipts come from one view of the chain (one
        batch): an RPC behind the pin is not asked to judge, and a lagging backend's missing receipt is
        not taken for someone else's transaction. Without it, the receipts are asked again after the
        nonce was read, so one of ours mined in between is not mistaken for a foreign one.
        """
        if pin is None:
            used = self._chain.nonce(self._sender.address, "latest")
            unanswered = [tx for tx in unanswered if tx.nonce < used]
            hashes = [h for tx in unanswered for h in tx.hashes.split(",")]
            receipts = self._chain.receipts(hashes) if hashes else []
        else:
            hashes = [h for tx in unanswered for h in tx.hashes.split(",")]
            answer = self._chain.nonce_and_receipts(self._sender.address, pin, hashes)
            if answer is None:
                return set()
            used, receipts = answer
        self._sender.observe_nonce(used)
        found = {h for h, r in zip(hashes, receipts, strict=True) if r is not None}
        below = [tx for tx in unanswered if tx.nonce < used]
        suspects = {tx.nonce for tx in below if not any(h in found for h in tx.hashes.split(","))}
        foreign = self._still_unanswered(suspects) if suspects else set()
        if foreign:
            self._second_signer = (self._clock(), sorted(foreign))
            self._metrics.foreign_nonces.inc(len(foreign))
            log.error(
                "nonces %s of %s were used by transactions this daemon did not sign: another process "
                "signs with this key (a second node, a wallet); run one daemon per key and send top-ups "
                "from it only while it is stopped, or accept re-signed attestations",
                sorted(foreign),
                self._sender.address,
            )
        return foreign

    def _still_unanswered(self, nonces: set[int]) -> set[int]:
        """Those of `nonces` whose every version, as stored now, still has no receipt.

        A process sharing the database (the CLI beside the daemon) may have re-signed one of them since
        this tick read its row, and a node may answer the nonce a moment before the receipt; a
        transaction of ours is only called foreign when a fresh look still finds none of its hashes.
        """
        with self._engine.connect() as db:
            rows = db.execute(
                select(transactions.c.nonce, transactions.c.hashes).where(transactions.c.nonce.in_(nonces))
            ).all()
        hashes = [h for row in rows for h in row.hashes.split(",")]
        found = {h for h, r in zip(hashes, self._chain.receipts(hashes), strict=True) if r is not None}
        return {row.nonce for row in rows if not any(h in found for h in row.hashes.split(","))}

    def _record(self, arrived: list[tuple[Row[Any], dict[str, Any]]], deep: list[Row[Any]]) -> list[Mined]:
        """Records the receipts that arrived and the mined transactions now deep enough to stop watching,
        in one database transaction with no disk flush: read from the chain again if lost (the rows stay
        pending or mined until then)."""
        if not arrived and not deep:
            return []
        mined = [
            {
                "key_nonce": tx.nonce,
                "state": "mined",
                "mined_block": int(receipt["blockNumber"], 16),
                "mined_hash": receipt["blockHash"],
                "succeeded": int(receipt["status"], 16) == 1,
                "tx_hash": receipt["transactionHash"],
            }
            for tx, receipt in arrived
        ]
        with transaction(self._engine, durable=False) as db:
            if mined:
                db.execute(MINED, mined)
            for row in mined:
                self._hooks.mined(db, row["key_nonce"], row["tx_hash"], row["succeeded"])
            if deep:
                db.execute(CONFIRMED, [{"key_nonce": tx.nonce} for tx in deep])
            for tx in deep:
                self._hooks.confirmed(db, tx.nonce, bool(tx.succeeded))
        self._reported.difference_update(tx.nonce for tx in deep)
        return [
            Mined(tx.nonce, row["tx_hash"], row["succeeded"], time.time() - tx.seen_at)
            for (tx, _), row in zip(arrived, mined, strict=True)
        ]

    def _follow_mined(self, tx: Row[Any], head: int, canonical_hash: str | None) -> bool:
        """Re-sends a mined transaction that a reorg dropped; whether it is deep enough to stop watching."""
        if canonical_hash is None:  # the RPC has no such block yet (a backend behind): not a reorg
            return False
        if canonical_hash != tx.mined_hash:
            log.info("transaction dropped by a reorg; re-sending", extra={"nonce": tx.nonce})
            with transaction(self._engine) as db:
                db.execute(
                    _row(tx).values(
                        state="pending",
                        mined_block=None,
                        mined_hash=None,
                        succeeded=None,
                        broadcast_block=head,
                    )
                )
                self._hooks.dropped(db, tx.nonce)
            self._sender.broadcast(tx.raw, tx.nonce)
            return False
        return bool(head - tx.mined_block >= self._fees.watch_blocks)

    def _give_up(self, tx: Row[Any], detail: str) -> None:
        log.info("transaction abandoned: %s", detail, extra={"nonce": tx.nonce})
        with transaction(self._engine) as db:
            db.execute(_row(tx).values(state="replaced"))
            self._hooks.abandoned(db, tx.nonce, detail)

    def _bump(self, tx: Row[Any], head: int) -> None:
        grow = 100 + self._fees.bump_percent
        max_fee, priority = self._sender.current_fees(head)
        new_max = min(self._fees.cap_wei, max(tx.max_fee * grow // 100, max_fee))
        new_priority = min(new_max, max(tx.priority_fee * grow // 100, priority))
        if new_max <= tx.max_fee:  # at the cap: keep the bytes, just make sure the network has them
            log.warning("stuck at max_fee_cap_gwei", extra={"nonce": tx.nonce, "max_fee": tx.max_fee})
            self._sender.broadcast(tx.raw, tx.nonce)
            with transaction(self._engine) as db:
                db.execute(_row(tx).values(broadcast_block=head))
            return
        raw, tx_hash = self._sender.sign(tx.nonce, tx.to_address, tx.data, tx.gas, new_max, new_priority)
        with transaction(self._engine) as db:
            db.execute(
                _row(tx).values(
                    raw=raw,
                    tx_hash=tx_hash,
                    hashes=f"{tx.hashes},{tx_hash}",
                    max_fee=new_max,
                    priority_fee=new_priority,
                    broadcast_block=head,
                )
            )
        self._metrics.gas_bumps.inc()
        log.info("fees bumped", extra={"nonce": tx.nonce, "tx_hash": tx_hash, "max_fee": new_max})
        self._sender.broadcast(raw, tx.nonce)


def _row(tx: Row[Any]) -> Update:
    """An update of the row of `tx`, by its nonce."""
    return update(transactions).where(transactions.c.nonce == tx.nonce)
