"""Following sent attestations: receipts, re-sending what a reorg dropped, fee bumps, foreign nonces."""

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, Update, select, update

from .chain import Chain
from .metrics import NodeMetrics
from .sender import FeePolicy, Sender, attestation_row, evidence_row
from .store import EvidenceState, attestations, evidence, transaction, transactions

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # attestations of one (job, evidence hash) that may fail on chain before it is dropped
RETRY_AFTER = 5.0  # seconds, times the attempts so far, before a failed attestation is reconsidered


@dataclass(frozen=True)
class Mined:
    """An attestation transaction that has just been mined."""

    job_id: str
    evidence_hash: str
    succeeded: bool
    seconds_since_seen: float


class Tracker:
    """Follows the sender's transactions until they are confirmed, re-signing and re-sending through it."""

    def __init__(
        self, sender: Sender, chain: Chain, engine: Engine, metrics: NodeMetrics, fees: FeePolicy
    ) -> None:
        self._sender, self._chain, self._engine = sender, chain, engine
        self._metrics, self._fees = metrics, fees

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
        for tx in open_txs:
            if tx.state == "mined":
                self._follow_mined(tx, head, canonical[tx.mined_block])
                continue
            receipt = next((found[h] for h in tx.hashes.split(",") if h in found), None)
            if receipt is not None:
                mined.append(self._record_receipt(tx, receipt))
            elif tx.nonce < used and head - tx.broadcast_block >= self._fees.watch_blocks:
                self._give_up(tx, "its nonce was used by a transaction this node did not sign")
            elif head - tx.broadcast_block >= self._fees.bump_blocks:
                self._bump(tx, head)
            elif not self._chain.known(tx.tx_hash):  # never arrived, or evicted: send the same bytes again
                self._sender.broadcast(tx.raw, tx.nonce)
        self._metrics.pending_transactions.set(sum(tx.state == "pending" for tx in open_txs) - len(mined))
        return mined

    def _record_receipt(self, tx: Row[Any], receipt: dict[str, Any]) -> Mined:
        succeeded = int(receipt["status"], 16) == 1
        with transaction(self._engine) as db:
            db.execute(
                _transaction(tx).values(
                    state="mined",
                    mined_block=int(receipt["blockNumber"], 16),
                    mined_hash=receipt["blockHash"],
                    succeeded=succeeded,
                    tx_hash=receipt["transactionHash"],
                )
            )
            current = db.execute(_attestation(tx).values(state="mined" if succeeded else "reverted")).rowcount
            if current and succeeded:
                db.execute(evidence_row(tx.job_id, tx.evidence_hash).values(state=EvidenceState.DONE))
            elif current:  # the verdict was reached first, or worse: the reconciler decides, later
                _back_to_reconciler(db, tx, "attestation reverted")
        if not succeeded:
            log.warning(
                "attestation reverted", extra={"job_id": tx.job_id, "tx_hash": receipt["transactionHash"]}
            )
        return Mined(tx.job_id, tx.evidence_hash, succeeded, time.time() - tx.seen_at)

    def _follow_mined(self, tx: Row[Any], head: int, canonical_hash: str | None) -> None:
        if canonical_hash != tx.mined_hash:
            log.warning(
                "attestation dropped by a reorg; re-sending", extra={"job_id": tx.job_id, "nonce": tx.nonce}
            )
            with transaction(self._engine) as db:
                db.execute(
                    update(transactions)
                    .where(transactions.c.nonce == tx.nonce)
                    .values(
                        state="pending",
                        mined_block=None,
                        mined_hash=None,
                        succeeded=None,
                        broadcast_block=head,
                    )
                )
                if db.execute(_attestation(tx).values(state="sent")).rowcount:
                    db.execute(
                        evidence_row(tx.job_id, tx.evidence_hash).values(state=EvidenceState.ATTESTING)
                    )
            self._sender.broadcast(tx.raw, tx.nonce)
        elif head - tx.mined_block >= self._fees.watch_blocks:
            with transaction(self._engine) as db:
                db.execute(_transaction(tx).values(state="confirmed"))
                if tx.succeeded:
                    db.execute(_attestation(tx).values(state="confirmed"))

    def _give_up(self, tx: Row[Any], detail: str) -> None:
        log.error("attestation abandoned: %s", detail, extra={"job_id": tx.job_id, "nonce": tx.nonce})
        with transaction(self._engine) as db:
            db.execute(_transaction(tx).values(state="replaced"))
            if db.execute(_attestation(tx).values(state="reverted")).rowcount:
                _back_to_reconciler(db, tx, detail)

    def _bump(self, tx: Row[Any], head: int) -> None:
        grow = 100 + self._fees.bump_percent
        max_fee, priority = self._sender.current_fees(head)
        new_max = min(self._fees.cap_wei, max(tx.max_fee * grow // 100, max_fee))
        new_priority = min(new_max, max(tx.priority_fee * grow // 100, priority))
        if new_max <= tx.max_fee:  # at the cap: keep the bytes, just make sure the network has them
            log.warning("stuck at max_fee_cap_gwei", extra={"nonce": tx.nonce, "max_fee": tx.max_fee})
            self._sender.broadcast(tx.raw, tx.nonce)
            with transaction(self._engine) as db:
                db.execute(_transaction(tx).values(broadcast_block=head))
            return
        raw, tx_hash = self._sender.sign(tx.nonce, tx.data, tx.gas, new_max, new_priority)
        with transaction(self._engine) as db:
            db.execute(
                _transaction(tx).values(
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


def _transaction(tx: Row[Any]) -> Update:
    """An update of the row of `tx`, by its nonce."""
    return update(transactions).where(transactions.c.nonce == tx.nonce)


def _attestation(tx: Row[Any]) -> Update:
    """The attestation whose current attempt is `tx` (news of an older attempt changes nothing)."""
    return attestation_row(tx.job_id, tx.evidence_hash).where(attestations.c.nonce == tx.nonce)


def _back_to_reconciler(db: Connection, tx: Row[Any], detail: str) -> None:
    """After a failed attempt the evidence is reconsidered later; after MAX_ATTEMPTS it is dropped."""
    attempts = (
        1
        + db.execute(
            select(evidence.c.attempts)
            .where(evidence.c.job_id == tx.job_id)
            .where(evidence.c.evidence_hash == tx.evidence_hash)
        ).scalar_one()
    )
    state = EvidenceState.SEEN if attempts < MAX_ATTEMPTS else EvidenceState.SKIPPED
    db.execute(
        evidence_row(tx.job_id, tx.evidence_hash).values(
            state=state, attempts=attempts, retry_at=time.time() + RETRY_AFTER * attempts, detail=detail
        )
    )
