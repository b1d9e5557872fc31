"""The contracts' events decoded from raw logs, by topic, with the shipped ABIs."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode
from eth_utils import event_abi_to_log_topic, to_checksum_address
from hexbytes import HexBytes

from .abi import abi
from .errors import ProtocolError

CONTRACTS = ("JobEscrow", "VerificationOracle", "WorkerRegistry", "ArbitrationPool")


class UnknownEvent(ProtocolError):
    """A log whose topic no contract of the protocol emits."""


@dataclass(frozen=True)
class Event:
    """One decoded log: which contract's event, its arguments by name, and where it sits in the chain."""

    contract: str  # "JobEscrow", ...
    name: str  # "JobPosted", ...
    address: str  # checksummed emitter
    args: Mapping[str, Any]
    block_number: int
    block_hash: str  # 0x-prefixed
    transaction_hash: str
    log_index: int

    def __getitem__(self, name: str) -> Any:
        return self.args[name]


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value) if str(value).startswith("0x") else "0x" + str(value)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _type(entry: Mapping[str, Any]) -> str:
    """The canonical ABI type of an input, tuples spelled out."""
    if entry["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in entry["components"]) + ")" + entry["type"][5:]
    return str(entry["type"])


@cache
def _by_topic() -> dict[bytes, tuple[str, dict[str, Any]]]:
    table: dict[bytes, tuple[str, dict[str, Any]]] = {}
    for contract in CONTRACTS:
        for entry in abi(contract):
            if entry["type"] == "event" and not entry.get("anonymous"):
                table.setdefault(event_abi_to_log_topic(entry), (contract, entry))  # type: ignore[arg-type]
    return table


def topic(contract: str, name: str) -> str:
    """The 0x-prefixed topic0 of `contract`'s event `name`."""
    for key, (owner, entry) in _by_topic().items():
        if owner == contract and entry["name"] == name:
            return "0x" + key.hex()
    raise UnknownEvent(f"{contract} has no event {name}")


def decode_log(log: Mapping[str, Any]) -> Event:
    """Decodes a log as JSON-RPC or web3.py returns it; UnknownEvent when no contract emits its topic."""
    topics = [HexBytes(t) for t in log["topics"]]
    if not topics or bytes(topics[0]) not in _by_topic():
        raise UnknownEvent(f"no protocol event has topic {topics[0].hex() if topics else '(none)'}")
    contract, entry = _by_topic()[bytes(topics[0])]
    indexed = [i for i in entry["inputs"] if i["indexed"]]
    plain = [i for i in entry["inputs"] if not i["indexed"]]
    values = dict(
        zip([i["name"] for i in plain], decode([_type(i) for i in plain], HexBytes(log["data"])), strict=True)
    )
    for item, raw in zip(indexed, topics[1:], strict=True):
        values[item["name"]] = decode([_type(item)], bytes(raw))[0]
    args = {i["name"]: _normal(values[i["name"]]) for i in entry["inputs"]}
    return Event(
        contract=contract,
        name=entry["name"],
        address=to_checksum_address(log["address"]),
        args=args,
        block_number=_int(log["blockNumber"]),
        block_hash=_hex(log["blockHash"]),
        transaction_hash=_hex(log["transactionHash"]),
        log_index=_int(log["logIndex"]),
    )


def decode_logs(logs: Iterable[Mapping[str, Any]]) -> list[Event]:
    """The protocol's events among `logs`, in their order; logs of other contracts are left out."""
    events = []
    for log in logs:
        try:
            events.append(decode_log(log))
        except UnknownEvent:
            continue
    return events


def _normal(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    if isinstance(value, tuple):
        return tuple(_normal(v) for v in value)
    return value
