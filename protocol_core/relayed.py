"""What a worker signs for someone else to send, as the relayed calls take it.

The worker signs with its own key and needs no gas: a desk, an onboarder or an oracle operator
sends the transaction (`JobEscrow.acceptJobFor`, `submitEvidenceFor`,
`VerificationOracle.submitAndAttest`, `WorkerRegistry.registerFor`, `setAvailabilityFor`). The
messages themselves are in `eip712` (each `sign_*` here takes its message's fields by name); these
records carry what the relayed call needs with the signature.
"""

from dataclasses import dataclass
from typing import Any

from eth_account.messages import SignableMessage
from eth_utils import to_checksum_address

from .eip712 import (
    acceptance_message,
    availability_message,
    evidence_message,
    recover_compact,
    registration_message,
    sign_compact,
)

Signature = tuple[bytes, bytes]  # compact EIP-2098 form: (r, yParity|s)
PROFILE = ("languages", "expertise", "max_concurrent", "profile_uri")  # copied as signed


@dataclass(frozen=True)
class SignedAcceptance:
    """A worker's acceptance of one job, valid until `deadline`."""

    job_id: bytes
    worker: str
    deadline: int
    signature: Signature

    def signer(self, *, chain_id: int, escrow: str) -> str:
        """Who signed it under the escrow's domain (a relayer checks this before paying gas)."""
        message = acceptance_message(
            chain_id=chain_id, escrow=escrow, job_id=self.job_id, worker=self.worker, deadline=self.deadline
        )
        return recover_compact(message, self.signature)


@dataclass(frozen=True)
class SignedEvidence:
    """A worker's evidence and its signature, as `submitEvidenceFor` and `submitAndAttest` take it."""

    evidence_hash: bytes
    uri: str
    deadline: int
    signature: Signature

    def as_abi(self) -> tuple[bytes, str, int, list[bytes]]:
        """The `SignedEvidence` struct as the contracts take it."""
        return (self.evidence_hash, self.uri, self.deadline, list(self.signature))

    def signer(self, *, chain_id: int, escrow: str, job_id: bytes) -> str:
        """Who signed it for job `job_id` (the job's worker, when it is valid)."""
        message = evidence_message(
            chain_id=chain_id, escrow=escrow, job_id=job_id, evidence_hash=self.evidence_hash,
            uri=self.uri, deadline=self.deadline,
        )  # fmt: skip
        return recover_compact(message, self.signature)


@dataclass(frozen=True)
class SignedRegistration:
    """A worker's profile and its signature, for `WorkerRegistry.registerFor`."""

    worker: str
    languages: int
    expertise: int
    max_concurrent: int
    encryption_key: bytes
    profile_uri: str
    deadline: int
    signature: Signature

    def as_abi(self) -> tuple[str, int, int, int, bytes, str, int, list[bytes]]:
        """The arguments of `registerFor`, in order."""
        return (
            to_checksum_address(self.worker), self.languages, self.expertise, self.max_concurrent,
            self.encryption_key, self.profile_uri, self.deadline, list(self.signature),
        )  # fmt: skip


def _signed(private_key: str | bytes, message: SignableMessage) -> Signature:
    r, vs = sign_compact(private_key, message)
    return (r, vs)


def sign_acceptance(private_key: str | bytes, **fields: Any) -> SignedAcceptance:
    """The worker's acceptance of a job: the fields of `eip712.acceptance_message` (chain_id, escrow,
    job_id, worker, deadline); it signs for itself, so `worker` is its own address."""
    signature = _signed(private_key, acceptance_message(**fields))
    return SignedAcceptance(
        bytes(fields["job_id"]), to_checksum_address(fields["worker"]), fields["deadline"], signature
    )


def sign_evidence(private_key: str | bytes, **fields: Any) -> SignedEvidence:
    """The worker's signed evidence, ready to relay: the fields of `eip712.evidence_message` (chain_id,
    escrow, job_id, evidence_hash, uri, deadline)."""
    signature = _signed(private_key, evidence_message(**fields))
    return SignedEvidence(bytes(fields["evidence_hash"]), fields["uri"], fields["deadline"], signature)


def sign_registration(private_key: str | bytes, **fields: Any) -> SignedRegistration:
    """The worker's signed profile: the fields of `eip712.registration_message`; `nonce` is the
    registry's `nonces(worker)` now."""
    signature = _signed(private_key, registration_message(**fields))
    profile = {name: fields[name] for name in PROFILE}
    return SignedRegistration(
        worker=to_checksum_address(fields["worker"]),
        **profile,
        encryption_key=bytes(fields["encryption_key"]),
        deadline=fields["deadline"],
        signature=signature,
    )


def sign_availability(private_key: str | bytes, **fields: Any) -> Signature:
    """The worker's signed availability switch for `setAvailabilityFor`: the fields of
    `eip712.availability_message` (chain_id, registry, worker, available, nonce, deadline)."""
    return _signed(private_key, availability_message(**fields))
