"""What the node asks of a verification and what it gets back: requests, verdicts, reason codes."""

from dataclasses import dataclass

from protocol_core.enums import Reason

__all__ = ["FETCH_REASONS", "Reason", "Verdict", "VerificationRequest"]

# Verdicts about getting the bytes, not about the bytes: for evidence the node holds no bytes of (a
# peer or the chain told of it before the worker's own hand-in came), they may change once they come.
FETCH_REASONS = (Reason.UNREACHABLE, Reason.HASH_MISMATCH, Reason.UNSUPPORTED_URI)


@dataclass(frozen=True)
class VerificationRequest:
    """One submitted evidence bundle to verify, with what the chain says about its job."""

    chain_id: int
    escrow: str  # checksummed address of the JobEscrow
    job_id: bytes  # 32 bytes
    evidence_hash: bytes  # 32 bytes, as submitted on chain
    uri: str  # where the worker says the bundle is
    confirmer: str  # the job's confirmer (terms.confirmer); the zero address when none
    raw: bytes | None = None  # the bundle's bytes when the worker handed them in; then nothing is fetched


@dataclass(frozen=True)
class Verdict:
    """The node's decision on one bundle."""

    approve: bool
    reason: Reason
    detail: str = ""  # human-readable, for logs and the database; never sent on chain

    @classmethod
    def reject(cls, reason: Reason, detail: str) -> "Verdict":
        """A rejection with its reason."""
        return cls(approve=False, reason=reason, detail=detail)
