"""What the node asks of a verification and what it gets back: requests, verdicts, reason codes."""

from dataclasses import dataclass
from enum import IntEnum


class Reason(IntEnum):
    """Machine-readable reason of a verdict; the number is the `reason` the oracle records on chain."""

    CONFIRMED = 0  # approved: hash, schema and the customer's confirmation all check out
    HASH_MISMATCH = 1  # the fetched bytes do not hash to the evidence hash on chain
    MALFORMED = 2  # not UTF-8 JSON
    SCHEMA = 3  # valid JSON that the strict schema refuses (unknown or missing fields, bad values)
    OVERSIZED = 4  # larger than the node's limit
    UNREACHABLE = 5  # the URI could not be fetched within the retry budget
    UNSUPPORTED_URI = 6  # a scheme the node does not fetch
    WRONG_JOB = 7  # the bundle names another job, escrow or chain
    BAD_SIGNATURE = 8  # the confirmation is not a valid signature by the job's confirmer
    NOT_RESOLVED = 9  # the customer's confirmation says the ticket was not resolved
    HELPDESK_NOT_SOLVED = 10  # the operator's helpdesk does not report the ticket solved
    UNCONFIRMABLE = 11  # the job has no confirmer and the node has no helpdesk check


@dataclass(frozen=True)
class VerificationRequest:
    """One submitted evidence bundle to verify, with what the chain says about its job."""

    chain_id: int
    escrow: str  # checksummed address of the JobEscrow
    job_id: bytes  # 32 bytes
    evidence_hash: bytes  # 32 bytes, as submitted on chain
    uri: str  # where the worker says the bundle is
    confirmer: str  # the job's confirmer (terms.confirmer); the zero address when none


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
