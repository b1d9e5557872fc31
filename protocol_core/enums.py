"""The contracts' enums and the oracle's reason codes: the one Python copy, kept in step by a test.

Member names are the Solidity names in UPPER_SNAKE case (`None` becomes NONE); values are the
positions solc gives them. tests/test_enums.py compiles contracts/interfaces/ and fails when a
member is added, removed or reordered there but not here.
"""

from enum import IntEnum


class JobStatus(IntEnum):
    """`JobStatus` in IJobEscrow.sol: where a job is in its lifecycle."""

    NONE = 0
    OPEN = 1
    ACCEPTED = 2
    SUBMITTED = 3
    APPROVED = 4
    REJECTED = 5
    DISPUTED = 6
    PAID = 7
    REFUNDED = 8


class RefundReason(IntEnum):
    """`RefundReason` in IJobEscrow.sol: why an agent got its money back."""

    CANCELLED = 0
    NOT_ACCEPTED = 1
    RESOLVE_DEADLINE_MISSED = 2
    REJECTED = 3
    VERIFICATION_MISSED = 4
    RULING = 5


class RulingOption(IntEnum):
    """`RulingOption` in IJobEscrow.sol, in ERC-792 numbering (0 = refused to rule, split)."""

    SPLIT = 0
    PAY_WORKER = 1
    REFUND_AGENT = 2


class Ineligibility(IntEnum):
    """`Ineligibility` in IWorkerRegistry.sol: why a worker may not take a job."""

    NONE = 0
    NOT_REGISTERED = 1
    UNAVAILABLE = 2
    LANGUAGE = 3
    EXPERTISE = 4
    CERTIFICATION = 5
    AT_CAPACITY = 6


class WorkOutcome(IntEnum):
    """`WorkOutcome` in IWorkerRegistry.sol: what the escrow reports about a worker's job."""

    RELEASED = 0
    COMPLETED = 1
    MISSED_DEADLINE = 2


class RoundPhase(IntEnum):
    """`RoundPhase` in IArbitrationPool.sol: where a dispute's current round is."""

    NONE = 0
    DRAWING = 1
    COMMIT = 2
    REVEAL = 3
    TALLY = 4
    APPEALABLE = 5
    FINAL = 6


class Reason(IntEnum):
    """Reason code of an oracle verdict: the `reason` (uint8) an operator records on chain."""

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


SOLIDITY_ENUMS: dict[str, type[IntEnum]] = {
    "JobStatus": JobStatus,
    "RefundReason": RefundReason,
    "RulingOption": RulingOption,
    "Ineligibility": Ineligibility,
    "WorkOutcome": WorkOutcome,
    "RoundPhase": RoundPhase,
}
