"""The pool's logs the arbitrator follows, decoded into small records by the shipped ABI."""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode
from eth_utils import to_checksum_address

from protocol_core.abi import abi
from runtime.abi import event_topic
from runtime.chain import Log

FOLLOWED = (
    "DisputeCreation",  # a dispute the keeper may have to draw, tally and execute
    "RandomnessRequested",  # a round waits for its draw
    "Drawn",  # a seat: mine when it names my address
    "VoteCommitted",
    "VoteRevealed",
    "Tallied",
    "Ruling",  # the ruling is final (and its delivery to the arbitrable attempted)
    "RulingDelivered",
    "RulingDeliveryFailed",  # deliverRuling is due once the arbitrable would accept it
    "PaymentDeferred",  # payPanels is due once no draw is pending
    "StakeQueued",  # applyQueuedStakes is due once no draw is pending
    "UnstakeQueued",
)


@dataclass(frozen=True)
class PoolEvent:
    """One pool log: the event's name, its arguments by name and its block."""

    name: str
    args: Mapping[str, Any]
    block_number: int

    @property
    def dispute_id(self) -> int:
        """The dispute the event is about (0 for stake events)."""
        return int(self.args.get("disputeId", 0))


@cache
def _entries() -> dict[str, dict[str, Any]]:
    pool = abi("ArbitrationPool")
    entries = {}
    for name in FOLLOWED:
        entry = next(e for e in pool if e["type"] == "event" and e["name"] == name)
        entries[event_topic(pool, name)] = entry
    return entries


def topics() -> tuple[str, ...]:
    """The first topics of the followed events."""
    return tuple(_entries())


def decode_event(log: Log) -> PoolEvent:
    """The followed event in `log` (the cursor only reads their topics)."""
    entry = _entries()[log.topics[0]]
    indexed = [i for i in entry["inputs"] if i["indexed"]]
    plain = [i for i in entry["inputs"] if not i["indexed"]]
    args: dict[str, Any] = dict(
        zip([i["name"] for i in plain], decode([i["type"] for i in plain], log.data), strict=True)
    )
    for item, raw in zip(indexed, log.topics[1:], strict=True):
        args[item["name"]] = decode([item["type"]], bytes.fromhex(raw[2:]))[0]
    normal = {k: to_checksum_address(v) if isinstance(v, str) else v for k, v in args.items()}
    return PoolEvent(entry["name"], normal, log.block_number)
