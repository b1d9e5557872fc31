"""What a worker signs for someone else to send, as the relayed calls take it.

The worker signs with its own key and needs no gas: a desk, an onboarder or an oracle operator
sends the transaction (`JobEscrow.acceptJobFor`, `submitEvidenceFor`,
`VerificationOracle.submitAndAttest`, `WorkerRegistry.registerFor`, `setAvailabilityFor`). The
messages themselves are in `eip712`; these records carry a message's fields with its signature.
"""

from dataclasses import dataclass

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


def sign_acceptance(
    private_key: str | bytes, *, chain_id: int, escrow: str, job_id: bytes, worker: str, deadline: int
) -> SignedAcceptance:
    """The worker's acceptance of job `job_id` (it signs for itself: `worker` is its own address)."""
    message = acceptance_message(
        chain_id=chain_id, escrow=escrow, job_id=job_id, worker=worker, deadline=deadline
    )
    r, vs = sign_compact(private_key, message)
    return SignedAcceptance(bytes(job_id), to_checksum_address(worker), deadline, (r, vs))


def sign_evidence(
    private_key: str | bytes,
    *,
    chain_id: int,
    escrow: str,
    job_id: bytes,
    evidence_hash: bytes,
    uri: str,
    deadline: int,
) -> SignedEvidence:
    """The worker's signed evidence for job `job_id`, ready to relay."""
    message = evidence_message(
        chain_id=chain_id,
        escrow=escrow,
        job_id=job_id,
        evidence_hash=evidence_hash,
        uri=uri,
        deadline=deadline,
    )
    r, vs = sign_compact(private_key, message)
    return SignedEvidence(bytes(evidence_hash), uri, deadline, (r, vs))


def sign_registration(
    private_key: str | bytes,
    *,
    chain_id: int,
    registry: str,
    worker: str,
    languages: int,
    expertise: int,
    max_concurrent: int,
    encryption_key: bytes,
    profile_uri: str,
    nonce: int,
    deadline: int,
) -> SignedRegistration:
    """The worker's signed profile; `nonce` is the registry's `nonces(worker)` now."""
    message = registration_message(
        chain_id=chain_id, registry=registry, worker=worker, languages=languages, expertise=expertise,
        max_concurrent=max_concurrent, encryption_key=encryption_key, profile_uri=profile_uri,
        nonce=nonce, deadline=deadline,
    )  # fmt: skip
    r, vs = sign_compact(private_key, message)
    return SignedRegistration(
        to_checksum_address(worker), languages, expertise, max_concurrent, bytes(encryption_key),
        profile_uri, deadline, (r, vs),
    )  # fmt: skip


def sign_availability(
    private_key: str | bytes,
    *,
    chain_id: int,
    registry: str,
    worker: str,
    available: bool,
    nonce: int,
    deadline: int,
) -> Signature:
    """The worker's signed availability switch for `setAvailabilityFor`."""
    message = availability_message(
        chain_id=chain_id,
        registry=registry,
        worker=worker,
        available=available,
        nonce=nonce,
        deadline=deadline,
    )
    r, vs = sign_compact(private_key, message)
    return (r, vs)
