"""Raw logs to facts: which entity (worker, job, operator, arbitrator, dispute) an event is about, with
its arguments as JSON-ready values. Pure: no chain, no SQL."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from protocol_core.abi import abi
from protocol_core.events import decode_log
from runtime.abi import event_topic
from runtime.chain import Log


class Kind(StrEnum):
    """The read model's entities."""

    WORKER = "worker"
    JOB = "job"
    OPERATOR = "operator"
    ARBITRATOR = "arbitrator"
    DISPUTE = "dispute"


# contract -> event -> the kind it is about and the argument that names the entity
FOLLOWED: dict[str, dict[str, tuple[Kind, str]]] = {
    "WorkerRegistry": {
        name: (Kind.WORKER, "worker")
        for name in ("WorkerRegistered", "AvailabilityChanged", "CertificationsChanged", "WorkRecorded")
    },
    "JobEscrow": {
        name: (Kind.JOB, "jobId")
        for name in (
            "JobPosted",
            "JobAccepted",
            "EvidenceSubmitted",
            "VerdictRecorded",
            "WorkerPaid",
            "AgentRefunded",
            "JobDisputed",
            "JobAppealed",
            "DisputeSettled",
        )
    },
    "VerificationOracle": {
        name: (Kind.OPERATOR, "operator")
        for name in (
            "OperatorAdded",
            "OperatorRemoved",
            "Staked",
            "UnstakeRequested",
            "StakeWithdrawn",
            "Slashed",
        )
    },
    "ArbitrationPool": {
        **{
            name: (Kind.ARBITRATOR, "arbitrator")
            for name in (
                "StakeChanged",
                "UnstakeRequested",
                "StakeQueued",
                "UnstakeQueued",
                "UnstakeCancelled",
                "Rewarded",
                "Penalized",
            )
        },
        **{
            name: (Kind.DISPUTE, "disputeId")
            for name in (
                "DisputeCreation",
                "Drawn",
                "VoteCommitted",
                "VoteRevealed",
                "Tallied",
                "RulingDelivered",
                "AppealDecision",
                "RandomnessRequested",
                "SeedRecorded",
            )
        },
    },
}
# Rewarded and Penalized name a dispute and an arbitrator: they are facts of the arbitrator.
SECOND_KEY = {"Rewarded": "arbitrator", "Penalized": "arbitrator"}
# Events whose argument names differ between contracts that share a signature (the topic is the same).
POSITIONAL = {"UnstakeRequested": ("who", "amount", "until")}


@dataclass(frozen=True)
class Fact:
    """One event about one entity, at a block; `args` hold only JSON values (ints, strs, bools, lists)."""

    kind: Kind
    key: str
    name: str
    args: dict[str, Any]
    block: int
    block_hash: str


def topics() -> tuple[str, ...]:
    """The first topics of every followed event."""
    return tuple(sorted({event_topic(abi(c), name) for c, names in FOLLOWED.items() for name in names}))


def decode(log: Log, contract: str) -> Fact | None:
    """The fact in `log`, emitted by the protocol's `contract`; None if not folded."""
    event = decode_log(
        {"address": log.address, "topics": log.topics, "data": log.data, "blockNumber": log.block_number,
         "blockHash": log.block_hash, "transactionHash": "0x", "logIndex": 0}
    )  # fmt: skip
    followed = FOLLOWED[contract].get(event.name)
    if followed is None:
        return None
    kind, key_arg = followed
    args = {name: _json(value) for name, value in event.args.items()}
    if event.name in POSITIONAL:
        args = dict(zip(POSITIONAL[event.name], args.values(), strict=True))
        key_arg = "who"
    key = args[SECOND_KEY.get(event.name, key_arg)]
    return Fact(kind, str(key).lower(), event.name, args, log.block_number, log.block_hash)


def _json(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return str(value)  # JSON readers lose precision beyond 2**53
    return value
