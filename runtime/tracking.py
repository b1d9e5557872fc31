"""Following sent transactions: receipts, re-sending what a reorg dropped, fee bumps, foreign nonces.

The daemon's own rows follow along through TxHooks, called inside the same database transaction
as the change to the transaction's row.
"""

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Row, Update, select, update

from .chain import Chain
from .db import transaction
from .metrics import RuntimeMetrics
from .sender import FeePolicy, Sender
from .tables import transactions

log = logging.getLogger(__name__)


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
    ) -> None:
        self._sender, self._chain, self._engine = sender, chain, engine
        self._metrics, self._fees, self._hooks = metrics, fees, hooks

    def tick(self, head: int) -> list[Mined]:
        """Follows every unsettled transaction: records receipts, bumps the stuck, re-sends the dropped."""
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
        used = self._chain.nonce(self._sender.address, "latest") if unanswered else 0
        self._sender.observe_nonce(used)
        foreign = self._foreign(unanswered, used)
        for tx in open_txs:
            if tx.state == "mined":
                self._follow_mined(tx, head, canonical[tx.mined_block])
                continue
            receipt = next((found[h] for h in tx.hashes.split(",") if h in found), None)
            if receipt is not None:
                mined.append(self._record_receipt(tx, receipt))
            elif tx.nonce in foreign:
                self._give_up(tx, "its nonce was used by a transaction this daemon did not sign")
            elif head - tx.broadcast_block >= self._fees.bump_blocks:
                self._bump(tx, head)
            elif not self._chain.known(tx.tx_hash):  # never arrived, or evicted: send the same bytes again
                self._sender.broadcast(tx.raw, tx.nonce)
        self._metrics.pending_transactions.set(sum(tx.state == "pending" for tx in open_txs) - len(mined))
        return mined

    def _foreign(self, unanswered: list[Row[Any]], used: int) -> set[int]:
        """Nonces of ours the chain has used for a transaction without any of our hashes.

        The receipts are asked again after the nonce was read, so one of ours mined in between is
        not mistaken for a foreign one.
        """
        below = [tx for tx in unanswered if tx.nonce < used]
        if not below:
            return set()
        hashes = [h for tx in below for h in tx.hashes.split(",")]
        found = {h for h, r in zip(hashes, self._chain.receipts(hashes), strict=True) if r is not None}
        foreign = {tx.nonce for tx in below if not any(h in found for h in tx.hashes.split(","))}
        if foreign:
            self._metrics.foreign_nonces.inc(len(foreign))
            log.error(
                "nonces %s of %s were used by transactions this daemon did not sign: another process "
                "(a second node, a wallet) signs with this key; run one daemon per key and send top-ups "
                "from it only while it is stopped, or accept re-signed attestations",
                sorted(foreign),
                self._sender.address,
            )
        return foreign

    def _record_receipt(self, tx: Row[Any], receipt: dict[str, Any]) -> Mined:
        succeeded = int(receipt["status"], 16) == 1
        tx_hash = receipt["transactionHash"]
        with transaction(self._engine) as db:
            db.execute(
                _row(tx).values(
                    state="mined",
                    mined_block=int(receipt["blockNumber"], 16),
                    mined_hash=receipt["blockHash"],
                    succeeded=succeeded,
                    tx_hash=tx_hash,
                )
            )
            self._hooks.mined(db, tx.nonce, tx_hash, succeeded)
        return Mined(tx.nonce, tx_hash, succeeded, time.time() - tx.seen_at)

    def _follow_mined(self, tx: Row[Any], head: int, canonical_hash: str | None) -> None:
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
        elif head - tx.mined_block >= self._fees.watch_blocks:
            with transaction(self._engine) as db:
                db.execute(_row(tx).values(state="confirmed"))
                self._hooks.confirmed(db, tx.nonce, bool(tx.succeeded))

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
