"""Selectors, event topics and custom-error names, from ABI JSON (a list of entries)."""

from typing import Any

from eth_utils import event_abi_to_log_topic
from web3 import Web3

Abi = list[dict[str, Any]]


def event_topic(abi: Abi, name: str) -> str:
    """The 0x-hex topic of event `name`: the first topic of its logs."""
    entry = next(e for e in abi if e["type"] == "event" and e["name"] == name)
    return "0x" + event_abi_to_log_topic(entry).hex()  # type: ignore[arg-type]


def function_selector(abi: Abi, name: str) -> bytes:
    """The four bytes that start calldata of function `name`."""
    entry = next(e for e in abi if e["type"] == "function" and e["name"] == name)
    return bytes.fromhex(_selector(entry))


def error_names(abi: Abi) -> dict[str, str]:
    """The custom errors of `abi` by selector (8 hex digits, no 0x), to name what a call reverts with."""
    return {_selector(entry): entry["name"] for entry in abi if entry["type"] == "error"}


def _selector(entry: dict[str, Any]) -> str:
    signature = f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"
    return Web3.keccak(text=signature)[:4].hex()


def _type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + param["type"][5:]
    return str(param["type"])
