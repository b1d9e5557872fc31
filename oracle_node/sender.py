"""One transaction sender per key: local nonces, signed bytes persisted before broadcast, fee bumps,
and re-sending what a reorg dropped."""

import logging
import time
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from sqlalchemy import Connection, Engine, func, select, update

from .chain import Chain
from .metrics import NodeMetrics
from .store import EvidenceState, attestations, evidence, transaction, transactions

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # attestations of one (job, evidence hash) that may fail on chain before it is dropped
RETRY_AFTER = 5.0  # seconds, times the attempts so far, before a failed attestation is reconsidered
IGNORED_BROADCAST_ERRORS = ("already known", "nonce too low", "replacement transaction underpriced")


@dataclass(frozen=True)
class FeePolicy:
    """How fees start, grow and stop."""

    bump_blocks: int  # blocks a transaction waits before it is re-signed with higher fees
    bump_percent: int  # increase per bump (at least the 10 % nodes require)
    cap_wei: int  # fees never go above this
    watch_blocks: int  # blocks a mined transaction is watched for being dropped by a reorg


@dataclass(frozen=True)
class Attestation:
    """A decided verdict, ready to be signed: the oracle's `attest` calldata and its gas."""

    job_id: str
    evidence_hash: str
    approve: bool
    reason: int
    data: bytes
    gas: int
    seen_at: float  # wall clock when the evidence was first seen


@dataclass(frozen=True)
class Mined:
    """An attestation transaction that has just been mined."""

    job_id: str
    evidence_hash: str
    succeeded: bool
    seconds_since_seen: float


class Sender:
    """Sends the node's attestations, each exactly once per (job, evidence hash)."""

    def __init__(
        self, chain: Chain, engine: Engine, account: LocalAccount, metrics: NodeMetrics, fees: FeePolicy
    ) -> None:
        self._chain, self._engine, self._account, self._metrics, self._fees = (
            chain,
            engine,
            account,
            metrics,
            fees,
        )
        self._chain_id = chain.chain_id()
        self._next_nonce = 0
        self._fee_quote: tuple[int, tuple[int, int]] = (-1, (0, 0))

    @property
    def address(self) -> str:
        """The sending key's address."""
        return str(self._account.address)

    def start(self) -> None:
        """Picks up the nonce where the database and the chain leave it and re-broadcasts pending bytes."""
        with self._engine.connect() as db:
            highest = db.execute(select(func.max(transactions.c.nonce))).scalar()
            pending = db.execute(select(transactions).where(transactions.c.state == "pending")).all()
        self._next_nonce = max(-1 if highest is None else highest, self._chain.nonce(self.address) - 1) + 1
        for tx in pending:
            self._broadcast(tx.raw, tx.nonce)

    def attest(self, decided: list[Attestation], head: int) -> int:
        """Claims each (job, evidence hash), persists every signed transaction in one database
        transaction, then broadcasts them in one batch. Returns how many were sent; a (job, evidence
        hash) with a live attestation of ours already is marked done and not sent again."""
        max_fee, priority = self._current_fees(head)
        signed: list[tuple[int, bytes, str, Attestation]] = []
        with transaction(self._engine) as db:
            for item in decided:
                live = db.execute(
                    select(attestations.c.state)
                    .where(attestations.c.job_id == item.job_id)
                    .where(attestations.c.evidence_hash == item.evidence_hash)
                ).first()
                if live is not None and live.state != "reverted":
                    db.execute(_evidence(item.job_id, item.evidence_hash).values(state=EvidenceState.DONE))
                    continue
                nonce = self._next_nonce + len(signed)
                raw, tx_hash = self._sign(nonce, item.data, item.gas, max_fee, priority)
                claim = dict(approve=item.approve, reason=item.reason, nonce=nonce, state="sent")
                if live is None:
                    db.execute(
                        attestations.insert().values(
                            job_id=item.job_id, evidence_hash=item.evidence_hash, **claim
                        )
                    )
                else:
                    db.execute(_pair(item.job_id, item.evidence_hash).values(**claim))
                db.execute(
                    transactions.insert().values(
                        nonce=nonce,
                        job_id=item.job_id,
                        evidence_hash=item.evidence_hash,
                        data=item.data,
                        gas=item.gas,
                        raw=raw,
                        tx_hash=tx_hash,
                        hashes=tx_hash,
                        max_fee=max_fee,
                        priority_fee=priority,
                        broadcast_block=head,
                        state="pending",
                        seen_at=item.seen_at,
                    )
                )
                db.execute(_evidence(item.job_id, item.evidence_hash).values(state=EvidenceState.ATTESTING))
                signed.append((nonce, raw, tx_hash, item))
        # Only now, with the bytes on disk, may they leave the process.
        self._next_nonce += len(signed)
        self._metrics.transactions_sent.inc(len(signed))
        for (nonce, _, tx_hash, item), error in zip(
            signed, self._chain.send_raw_many([raw for _, raw, _, _ in signed]), strict=True
        ):
            self._report(error, nonce)
            log.info("attestation sent", extra={"job_id": item.job_id, "tx_hash": tx_hash, "nonce": nonce})
        return len(signed)

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
        used = self._chain.nonce(self.address, "latest") if unanswered else 0
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
                self._broadcast(tx.raw, tx.nonce)
        self._metrics.pending_transactions.set(sum(tx.state == "pending" for tx in open_txs) - len(mined))
        return mined

    def _record_receipt(self, tx, receipt: dict) -> Mined:  # type: ignore[no-untyped-def,type-arg]
        succeeded = int(receipt["status"], 16) == 1
        with transaction(self._engine) as db:
            db.execute(
                update(transactions)
                .where(transactions.c.nonce == tx.nonce)
                .values(
                    state="mined",
                    mined_block=int(receipt["blockNumber"], 16),
                    mined_hash=receipt["blockHash"],
                    succeeded=succeeded,
                    tx_hash=receipt["transactionHash"],
                )
            )
            current = db.execute(_attestation(tx).values(state="mined" if succeeded else "reverted")).rowcount
            if current and succeeded:
                db.execute(_evidence(tx.job_id, tx.evidence_hash).values(state=EvidenceState.DONE))
            elif current:  # the verdict was reached first, or worse: the reconciler decides, later
                _back_to_reconciler(db, tx, "attestation reverted")
        if not succeeded:
            log.warning(
                "attestation reverted", extra={"job_id": tx.job_id, "tx_hash": receipt["transactionHash"]}
            )
        return Mined(tx.job_id, tx.evidence_hash, succeeded, time.time() - tx.seen_at)

    def _follow_mined(self, tx, head: int, canonical_hash: str | None) -> None:  # type: ignore[no-untyped-def]
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
                    db.execute(_evidence(tx.job_id, tx.evidence_hash).values(state=EvidenceState.ATTESTING))
            self._broadcast(tx.raw, tx.nonce)
        elif head - tx.mined_block >= self._fees.watch_blocks:
            with transaction(self._engine) as db:
                db.execute(
                    update(transactions).where(transactions.c.nonce == tx.nonce).values(state="confirmed")
                )
                if tx.succeeded:
                    db.execute(_attestation(tx).values(state="confirmed"))

    def _give_up(self, tx, detail: str) -> None:  # type: ignore[no-untyped-def]
        log.error("attestation abandoned: %s", detail, extra={"job_id": tx.job_id, "nonce": tx.nonce})
        with transaction(self._engine) as db:
            db.execute(update(transactions).where(transactions.c.nonce == tx.nonce).values(state="replaced"))
            if db.execute(_attestation(tx).values(state="reverted")).rowcount:
                _back_to_reconciler(db, tx, detail)

    def _bump(self, tx, head: int) -> None:  # type: ignore[no-untyped-def]
        grow = 100 + self._fees.bump_percent
        max_fee, priority = self._current_fees(head)
        new_max = min(self._fees.cap_wei, max(tx.max_fee * grow // 100, max_fee))
        new_priority = min(new_max, max(tx.priority_fee * grow // 100, priority))
        if new_max <= tx.max_fee:  # at the cap: keep the bytes, just make sure the network has them
            log.warning("stuck at max_fee_cap_gwei", extra={"nonce": tx.nonce, "max_fee": tx.max_fee})
            self._broadcast(tx.raw, tx.nonce)
            with transaction(self._engine) as db:
                db.execute(
                    update(transactions).where(transactions.c.nonce == tx.nonce).values(broadcast_block=head)
                )
            return
        raw, tx_hash = self._sign(tx.nonce, tx.data, tx.gas, new_max, new_priority)
        with transaction(self._engine) as db:
            db.execute(
                update(transactions)
                .where(transactions.c.nonce == tx.nonce)
                .values(
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
        self._broadcast(raw, tx.nonce)

    def _current_fees(self, head: int) -> tuple[int, int]:
        """The network's fees, asked once per block."""
        if self._fee_quote[0] != head:
            max_fee, priority = self._chain.fees()
            self._fee_quote = (head, (min(max_fee, self._fees.cap_wei), min(priority, self._fees.cap_wei)))
        return self._fee_quote[1]

    def _sign(self, nonce: int, data: bytes, gas: int, max_fee: int, priority: int) -> tuple[bytes, str]:
        signed = self._account.sign_transaction(
            {
                "type": 2,
                "chainId": self._chain_id,
                "nonce": nonce,
                "to": self._chain.oracle.address,
                "data": data,
                "gas": gas,
                "value": 0,
                "maxFeePerGas": max_fee,
                "maxPriorityFeePerGas": priority,
            }
        )
        return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()

    def _broadcast(self, raw: bytes, nonce: int) -> None:
        self._report(self._chain.send_raw(raw), nonce)

    def _report(self, error: str | None, nonce: int) -> None:
        if error is not None and not any(known in error.lower() for known in IGNORED_BROADCAST_ERRORS):
            log.error("broadcast refused: %s", error, extra={"nonce": nonce})


def _pair(job_id: str, evidence_hash: str):  # type: ignore[no-untyped-def]
    return (
        update(attestations)
        .where(attestations.c.job_id == job_id)
        .where(attestations.c.evidence_hash == evidence_hash)
    )


def _attestation(tx):  # type: ignore[no-untyped-def]
    """The attestation whose current attempt is `tx` (news of an older attempt changes nothing)."""
    return _pair(tx.job_id, tx.evidence_hash).where(attestations.c.nonce == tx.nonce)


def _back_to_reconciler(db: Connection, tx, detail: str) -> None:  # type: ignore[no-untyped-def]
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
        _evidence(tx.job_id, tx.evidence_hash).values(
            state=state, attempts=attempts, retry_at=time.time() + RETRY_AFTER * attempts, detail=detail
        )
    )


def _evidence(job_id: str, evidence_hash: str):  # type: ignore[no-untyped-def]
    return (
        update(evidence).where(evidence.c.job_id == job_id).where(evidence.c.evidence_hash == evidence_hash)
    )
