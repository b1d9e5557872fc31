"""One transaction sender per key: local nonces, signing, signed bytes persisted before broadcast."""

import logging
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, Update, func, select, update

from .chain import Chain
from .metrics import NodeMetrics
from .store import EvidenceState, attestations, evidence, transaction, transactions

log = logging.getLogger(__name__)
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
            self.broadcast(tx.raw, tx.nonce)

    def attest(self, decided: list[Attestation], head: int) -> int:
        """Claims each (job, evidence hash), persists every signed transaction in one database
        transaction, then broadcasts them in one batch. Returns how many were sent; a (job, evidence
        hash) with a live attestation of ours already is marked done and not sent again."""
        max_fee, priority = self.current_fees(head)
        signed: list[tuple[int, bytes, str, Attestation]] = []
        with transaction(self._engine) as db:
            for item in decided:
                live = db.execute(
                    select(attestations.c.state)
                    .where(attestations.c.job_id == item.job_id)
                    .where(attestations.c.evidence_hash == item.evidence_hash)
                ).first()
                if live is not None and live.state != "reverted":
                    db.execute(evidence_row(item.job_id, item.evidence_hash).values(state=EvidenceState.DONE))
                    continue
                nonce = self._next_nonce + len(signed)
                raw, tx_hash = self.sign(nonce, item.data, item.gas, max_fee, priority)
                claim = dict(approve=item.approve, reason=item.reason, nonce=nonce, state="sent")
                if live is None:
                    db.execute(
                        attestations.insert().values(
                            job_id=item.job_id, evidence_hash=item.evidence_hash, **claim
                        )
                    )
                else:
                    db.execute(attestation_row(item.job_id, item.evidence_hash).values(**claim))
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
                db.execute(
                    evidence_row(item.job_id, item.evidence_hash).values(state=EvidenceState.ATTESTING)
                )
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

    def current_fees(self, head: int) -> tuple[int, int]:
        """The network's fees, asked once per block."""
        if self._fee_quote[0] != head:
            max_fee, priority = self._chain.fees()
            self._fee_quote = (head, (min(max_fee, self._fees.cap_wei), min(priority, self._fees.cap_wei)))
        return self._fee_quote[1]

    def sign(self, nonce: int, data: bytes, gas: int, max_fee: int, priority: int) -> tuple[bytes, str]:
        """Signs a call to the oracle; returns the raw bytes and the transaction hash."""
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

    def broadcast(self, raw: bytes, nonce: int) -> None:
        """Sends signed bytes; refusals the network gives for bytes it has already are not errors."""
        self._report(self._chain.send_raw(raw), nonce)

    def _report(self, error: str | None, nonce: int) -> None:
        if error is not None and not any(known in error.lower() for known in IGNORED_BROADCAST_ERRORS):
            log.error("broadcast refused: %s", error, extra={"nonce": nonce})


def attestation_row(job_id: str, evidence_hash: str) -> Update:
    """An update of the attestation of one (job, evidence hash)."""
    return (
        update(attestations)
        .where(attestations.c.job_id == job_id)
        .where(attestations.c.evidence_hash == evidence_hash)
    )


def evidence_row(job_id: str, evidence_hash: str) -> Update:
    """An update of the evidence row of one (job, evidence hash)."""
    return (
        update(evidence).where(evidence.c.job_id == job_id).where(evidence.c.evidence_hash == evidence_hash)
    )
