"""Signature exchange between operators: our attestation signatures out to the peers, theirs in.

A signature that arrives counts only when it recovers its claimed signer for the current set nonce,
the signer is in the current operator set with minStake staked (read from the chain), and the
evidence it is about passes the same checks as the worker's own intake. Anything else is refused,
logged and never stored.
"""

import logging
from collections.abc import Sequence

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine

from protocol_core.attestation_digest import attestation_digest, sign_digest
from protocol_core.eip712 import InvalidSignature
from protocol_core.handoff import AttestationSignature, EvidenceRecord, SignatureBatch, compact_hex
from runtime.db import insert_ignore_many, transaction

from .intake import Intake, Refused
from .metrics import NodeMetrics
from .operators import OperatorSet
from .peers import Peers
from .relay_store import relay_signatures

log = logging.getLogger(__name__)
PATIENCE = 3  # fallback_delay is this many times longer while the peers answer


class Exchange:
    """Signs our verdicts, checks and stores the peers', and pushes ours to every peer in the background."""

    def __init__(
        self,
        engine: Engine,
        account: LocalAccount,
        oracle: str,
        operators: OperatorSet,
        intake: Intake,
        peers: Sequence[str],  # base URLs of the other operators' nodes; empty: those published on chain
        timeout: float,  # seconds per POST to a peer
        fallback_delay: float,  # seconds an item waits for its quorum while no peer answers
        metrics: NodeMetrics,
    ) -> None:
        self.fallback_delay = fallback_delay
        self._metrics = metrics
        self._engine, self._account, self._oracle = engine, account, oracle
        self._operators, self._intake, self._timeout = operators, intake, timeout
        self.peers = Peers(peers, operators, str(account.address), timeout)
        self.chain_id = 0  # set when the node starts

    def patience(self, now: float) -> float:
        """Seconds an item may wait for its quorum before the on-chain fallback: `fallback_delay`, or
        PATIENCE times it while some peer has answered within that time (the peers are merely slow)."""
        heard = now - self.peers.heard_at < self.fallback_delay
        return self.fallback_delay * (PATIENCE if heard else 1)

    @property
    def me(self) -> str:
        """Our operator address."""
        return str(self._account.address)

    def start(self, chain_id: int) -> None:
        """Starts the senders to the peers."""
        self.chain_id = chain_id
        self.peers.start()

    def close(self) -> None:
        """Stops the senders (what is queued is pushed again by the next run)."""
        self.peers.close()

    def sign(
        self, record: EvidenceRecord, approve: bool, reason: int, set_nonce: int
    ) -> AttestationSignature:
        """Our attestation of a verdict on `record` (`store` it before it leaves the process)."""
        digest = attestation_digest(
            chain_id=self.chain_id,
            oracle=self._oracle,
            job_id=bytes.fromhex(record.job_id[2:]),
            evidence_hash=bytes.fromhex(record.evidence_hash[2:]),
            approve=approve,
            reason=reason,
            set_nonce=set_nonce,
        )
        r, vs = sign_digest(bytes(self._account.key), digest)
        signed = AttestationSignature(
            evidence=record.model_copy(update={"bundle": None}),
            approve=approve,
            reason=reason,
            set_nonce=set_nonce,
            signer=self.me,
            signature=compact_hex((r, vs)),
        )
        return signed

    def push(self, signatures: Sequence[AttestationSignature]) -> None:
        """Queues our signatures for every peer; a peer that is down misses them until the next push."""
        for outbox in self.peers.outboxes():
            outbox.put(signatures)

    def receive(self, batch: SignatureBatch) -> list[dict[str, str]]:
        """Checks and stores each signature from a peer; what happened to each, in order."""
        checked: list[Refused | None] = []
        for signed in batch.signatures:
            try:
                self._check(signed)
                checked.append(None)
            except Refused as refused:
                checked.append(refused)
        passing = [
            signed for signed, problem in zip(batch.signatures, checked, strict=True) if problem is None
        ]
        admitted = iter(self._intake.admit([signed.evidence for signed in passing]))
        problems = [problem or next(admitted) for problem in checked]
        for signed, problem in zip(batch.signatures, problems, strict=True):
            self._metrics.relay_signatures.labels(status="stored" if problem is None else problem.code).inc()
            if problem is not None:
                log.warning(
                    "peer signature refused: %s",
                    problem.detail,
                    extra={"job_id": signed.evidence.job_id, "signer": signed.signer},
                )
        self.store(  # a peer's: it pushes again while short of a quorum, so no disk flush for them
            [signed for signed, problem in zip(batch.signatures, problems, strict=True) if problem is None],
            durable=False,
        )
        return [
            {"status": "stored"}
            if problem is None
            else {"status": "refused", "code": problem.code, "detail": problem.detail}
            for problem in problems
        ]

    def _check(self, signed: AttestationSignature) -> None:
        current = self._operators.current()
        if signed.set_nonce != current.set_nonce:
            raise Refused(
                400, "stale_set", f"set nonce {signed.set_nonce}; the oracle's is {current.set_nonce}"
            )
        try:
            signer = signed.recovered(chain_id=self.chain_id, oracle=self._oracle)
        except InvalidSignature as error:
            raise Refused(400, "bad_signature", f"the attestation signature is invalid: {error}") from error
        if signer != signed.signer:
            raise Refused(400, "bad_signature", f"the signature recovers {signer}, not {signed.signer}")
        if signer not in current.eligible:
            raise Refused(403, "not_operator", f"{signer} is not a staked operator in the current set")

    def store(self, signatures: Sequence[AttestationSignature], durable: bool = True) -> None:
        """Keeps each signature once, in one database transaction (runtime.db: `durable`)."""
        if not signatures:
            return
        rows = [
            dict(
                job_id=signed.evidence.job_id,
                evidence_hash=signed.evidence.evidence_hash.lower(),
                signer=signed.signer,
                approve=signed.approve,
                reason=signed.reason,
                set_nonce=signed.set_nonce,
                signature=signed.signature,
            )
            for signed in signatures
        ]
        with transaction(self._engine, durable) as db:
            insert_ignore_many(db, relay_signatures, rows)
