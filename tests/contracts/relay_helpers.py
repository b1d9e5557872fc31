"""What workers sign and relayers send in the relay tests: signatures made off chain with the SDK."""

from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from devtools.system import X25519_PLACEHOLDER
from protocol_core.eip712 import SECP256K1_HALF_N, sign_attestation
from protocol_core.relayed import (
    SignedEvidence,
    sign_acceptance,
    sign_availability,
    sign_evidence,
    sign_registration,
)

URI = "ipfs://bafy-evidence"
TTL = 600  # seconds a test signature stays valid


def high_s(signature: Any) -> list[bytes]:
    """`signature` with an s above n/2, the half of the curve order EIP-2 forbids.

    The malleable twin of a signature (s' = n - s) almost never fits the 255 bits the compact form
    leaves for s; the values that do are in (n/2, 2^255), and OpenZeppelin refuses them all.
    """
    r, vs = (int.from_bytes(bytes(word), "big") for word in signature)
    return [r.to_bytes(32, "big"), (SECP256K1_HALF_N + 1 | (vs >> 255) << 255).to_bytes(32, "big")]


@dataclass
class Relay:
    """Signs as workers and operators would; keyword overrides sign for another chain or contract."""

    chain: Any
    escrow: Any
    oracle: Any
    registry: Any

    def deadline(self) -> int:
        return self.chain.pending_timestamp + TTL

    def _domain(self, contract: Any, chain_id: int | None, address: Any) -> dict[str, Any]:
        chosen = contract if address is None else address
        return {
            "chain_id": self.chain.chain_id if chain_id is None else chain_id,
            "address": str(getattr(chosen, "address", chosen)),
        }

    def acceptance(
        self, signer, terms, worker=None, deadline=None, *, chain_id=None, escrow=None
    ) -> tuple[str, int, list[bytes]]:
        """(worker, deadline, signature) as `acceptJobFor` takes them; `signer` signs for `worker`."""
        domain = self._domain(self.escrow, chain_id, escrow)
        worker = str((worker or signer).address)
        deadline = self.deadline() if deadline is None else deadline
        signed = sign_acceptance(
            signer.private_key, chain_id=domain["chain_id"], escrow=domain["address"],
            job_id=terms.digest(), worker=worker, deadline=deadline,
        )  # fmt: skip
        return worker, deadline, list(signed.signature)

    def evidence(
        self, signer, job_id, evidence=b"evidence", uri=URI, deadline=None, *, chain_id=None, escrow=None
    ) -> SignedEvidence:
        """The worker's signed evidence (its hash is keccak256 of `evidence`)."""
        domain = self._domain(self.escrow, chain_id, escrow)
        return sign_evidence(
            signer.private_key, chain_id=domain["chain_id"], escrow=domain["address"], job_id=job_id,
            evidence_hash=keccak(evidence), uri=uri,
            deadline=self.deadline() if deadline is None else deadline,
        )  # fmt: skip

    def attestations(self, operators, job_id, evidence_hash, approve=True, reason=0, *, chain_id=None):
        """Each operator's compact attestation under the current operator-set nonce."""
        domain = self._domain(self.oracle, chain_id, None)
        return [
            sign_attestation(
                op.private_key,
                chain_id=domain["chain_id"],
                oracle=domain["address"],
                job_id=job_id,
                evidence_hash=evidence_hash,
                approve=approve,
                reason=reason,
                set_nonce=self.oracle.setNonce(),
            )
            for op in operators
        ]

    def registration(
        self,
        signer,
        worker=None,
        languages=0b1,
        expertise=0b1,
        capacity=2,
        *,
        nonce=None,
        deadline=None,
        chain_id=None,
        registry=None,
        uri="ipfs://profile",
    ) -> tuple:
        """The arguments of `registerFor`: `signer` signs `worker`'s profile (its own by default)."""
        domain = self._domain(self.registry, chain_id, registry)
        worker = worker or signer
        signed = sign_registration(
            signer.private_key, chain_id=domain["chain_id"], registry=domain["address"],
            worker=str(worker.address), languages=languages, expertise=expertise, max_concurrent=capacity,
            encryption_key=X25519_PLACEHOLDER, profile_uri=uri,
            nonce=self.registry.nonces(worker) if nonce is None else nonce,
            deadline=self.deadline() if deadline is None else deadline,
        )  # fmt: skip
        return signed.as_abi()

    def availability(
        self, signer, available, *, nonce=None, deadline=None, chain_id=None, registry=None
    ) -> tuple:
        """The arguments of `setAvailabilityFor`, signed by `signer` for itself."""
        domain = self._domain(self.registry, chain_id, registry)
        deadline = self.deadline() if deadline is None else deadline
        signature = sign_availability(
            signer.private_key, chain_id=domain["chain_id"], registry=domain["address"],
            worker=str(signer.address), available=available,
            nonce=self.registry.nonces(signer) if nonce is None else nonce, deadline=deadline,
        )  # fmt: skip
        return (str(signer.address), available, deadline, list(signature))
