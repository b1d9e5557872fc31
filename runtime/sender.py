"""One transaction sender per key: local nonces, signing, signed bytes persisted before they are broadcast.

Generic over what is sent: a daemon hands over Calls, each with its purpose, and a Claim that
records the purpose against the nonce in the same database transaction as the signed bytes.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import rlp
from coincurve import PrivateKey
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from sqlalchemy import Connection, Engine, func, select

from .chain import Chain
from .db import transaction
from .metrics import RuntimeMetrics
from .tables import transactions

log = logging.getLogger(__name__)
IGNORED_BROADCAST_ERRORS = ("already known", "nonce too low", "replacement transaction underpriced")
P = TypeVar("P")
P_contra = TypeVar("P_contra", contravariant=True)


@dataclass(frozen=True)
class FeePolicy:
    """How fees start, grow and stop."""

    bump_blocks: int  # blocks a transaction waits before it is re-signed with higher fees
    bump_percent: int  # increase per bump (at least the 10 % nodes require)
    cap_wei: int  # fees never go above this
    watch_blocks: int  # blocks a mined transaction is watched for being dropped by a reorg
    bump_seconds: float = 0.0  # and seconds: with a block per transaction, blocks alone come too fast
    stuck_bumps: int = 10  # a nonce re-signed more often than this is stuck: the daemon is not ready
    signer_alarm: float = 600.0  # seconds a second signer on the key keeps the daemon not ready


@dataclass(frozen=True)
class Call(Generic[P]):
    """A contract call to sign and send, with what it is for in the daemon's own terms."""

    to: str
    data: bytes
    gas: int
    purpose: P
    seen_at: float = 0.0  # wall clock when the work behind it began; mined latency counts from here


class Claim(Protocol[P_contra]):
    """Records, in the sender's database transaction, that `nonce` carries `purpose`; False: send nothing."""

    def __call__(self, db: Connection, purpose: P_contra, nonce: int, /) -> bool: ...


@dataclass(frozen=True)
class Sent(Generic[P]):
    """A call signed, persisted and broadcast."""

    nonce: int
    tx_hash: str
    purpose: P


class Sender:
    """Signs and sends calls with one key, each nonce persisted with its signed bytes before broadcast."""

    def __init__(
        self, chain: Chain, engine: Engine, account: LocalAccount, metrics: RuntimeMetrics, fees: FeePolicy
    ) -> None:
        self._chain, self._engine, self._account = chain, engine, account
        self._key = PrivateKey(bytes(account.key))  # libsecp256k1: low s, deterministic (RFC 6979)
        self._metrics, self._fees = metrics, fees
        self._chain_id = 0
        self._next_nonce = 0
        self._fee_quote: tuple[int, tuple[int, int]] = (-1, (0, 0))

    @property
    def address(self) -> str:
        """The sending key's address."""
        return str(self._account.address)

    def start(self, chain_id: int) -> None:
        """Picks up the nonce where the database and the chain leave it and re-broadcasts pending bytes."""
        self._chain_id = chain_id
        with self._engine.connect() as db:
            highest = db.execute(select(func.max(transactions.c.nonce))).scalar()
            pending = db.execute(select(transactions).where(transactions.c.state == "pending")).all()
        self._next_nonce = max(-1 if highest is None else highest, self._chain.nonce(self.address) - 1) + 1
        for tx in pending:
            self.broadcast(tx.raw, tx.nonce)

    def observe_nonce(self, used: int) -> None:
        """The chain has used the key's nonces below `used`: the next one signed is at least that."""
        if used > self._next_nonce:
            self._metrics.foreign_nonces.inc(used - self._next_nonce)
            log.error(
                "the key's nonce moved to %d outside this daemon: another process signs with this key "
                "(a wallet's top-up, a second node); its nonces are skipped over. Run one daemon per key",
                used,
                extra={"was": self._next_nonce},
            )
            self._next_nonce = used

    def send(self, calls: Sequence[Call[P]], head: int, claim: Claim[P] | None = None) -> list[Sent[P]]:
        """Claims, signs and persists every call in one database transaction, then broadcasts them in
        one batch. A call whose claim refuses it takes no nonce and is not sent."""
        if not calls:
            return []
        # Transactions the key sent elsewhere (a wallet's top-up) are skipped over rather than collided
        # with; a lagging RPC's lower count changes nothing.
        self.observe_nonce(self._chain.nonce(self.address, "pending"))
        max_fee, priority = self.current_fees(head)
        signed: list[tuple[bytes, Sent[P]]] = []
        rows: list[dict[str, object]] = []
        with transaction(self._engine) as db:
            for call in calls:
                nonce = self._next_nonce + len(signed)
                if claim is not None and not claim(db, call.purpose, nonce):
                    continue
                raw, tx_hash = self.sign(nonce, call.to, call.data, call.gas, max_fee, priority)
                rows.append(
                    dict(
                        nonce=nonce,
                        to_address=call.to,
                        data=call.data,
                        gas=call.gas,
                        raw=raw,
                        tx_hash=tx_hash,
                        hashes=tx_hash,
                        max_fee=max_fee,
                        priority_fee=priority,
                        broadcast_block=head,
                        state="pending",
                        seen_at=call.seen_at,
                    )
                )
                signed.append((raw, Sent(nonce, tx_hash, call.purpose)))
            if rows:  # one statement for the batch, in the transaction that claimed each nonce
                db.execute(transactions.insert(), rows)
        # Only now, with the bytes on disk, may they leave the process.
        self._next_nonce += len(signed)
        self._metrics.transactions_sent.inc(len(signed))
        errors = self._chain.send_raw_many([raw for raw, _ in signed])
        for (_, sent), error in zip(signed, errors, strict=True):
            self._report(error, sent.nonce)
        return [sent for _, sent in signed]

    def current_fees(self, head: int) -> tuple[int, int]:
        """The network's fees, asked once per block."""
        if self._fee_quote[0] != head:
            max_fee, priority = self._chain.fees()
            self._fee_quote = (head, (min(max_fee, self._fees.cap_wei), min(priority, self._fees.cap_wei)))
        return self._fee_quote[1]

    def sign(
        self, nonce: int, to: str, data: bytes, gas: int, max_fee: int, priority: int
    ) -> tuple[bytes, str]:
        """Signs a call of `to` as an EIP-1559 transaction; returns the raw bytes and the transaction hash.
        Encoded here (RLP of the fields, no access list) rather than through eth_account's generic
        transaction builder, which costs a node a millisecond per send; tests pin the two together."""
        recipient = bytes.fromhex(to[2:])
        if len(recipient) != 20:
            raise ValueError(f"{to!r} is not an address")
        fields = [self._chain_id, nonce, priority, max_fee, gas, recipient, 0, bytes(data), []]
        signature = self._key.sign_recoverable(keccak(b"\x02" + rlp.encode(fields)), hasher=None)
        r, s, y_parity = signature[:32], signature[32:64], signature[64]
        raw = b"\x02" + rlp.encode([*fields, y_parity, int.from_bytes(r, "big"), int.from_bytes(s, "big")])
        return raw, "0x" + keccak(raw).hex()

    def broadcast(self, raw: bytes, nonce: int) -> None:
        """Sends signed bytes; refusals the network gives for bytes it has already are not errors."""
        self._report(self._chain.send_raw(raw), nonce)

    def _report(self, error: str | None, nonce: int) -> None:
        if error is not None and not any(known in error.lower() for known in IGNORED_BROADCAST_ERRORS):
            log.error("broadcast refused: %s", error, extra={"nonce": nonce})
