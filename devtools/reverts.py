"""The strict revert assertion every contract test uses."""

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import Any

import ape
from ape import chain as _chain
from eth_utils import is_address, keccak, to_checksum_address
from evm_trace import CallType


def _normalized(value: Any) -> Any:
    if hasattr(value, "address"):
        value = value.address
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, IntEnum):
        return int(value)
    return value


def _revert_origin(exc: Any) -> tuple[str, bytes] | None:
    """Address and revert data of the innermost call whose revert the transaction bubbled up.

    Code reached by DELEGATECALL reverts as its caller (a proxy's implementation as the proxy).
    """
    txn = getattr(exc, "txn", None)
    txn_hash = getattr(txn, "txn_hash", None) if txn is not None else None
    if txn_hash is None:
        return None
    node = _chain.provider.get_transaction_trace(txn_hash.hex()).get_calltree()
    address = node.address
    while bubbled := [c for c in node.calls if c.failed and c.returndata == node.returndata]:
        node = bubbled[-1]
        if node.call_type != CallType.DELEGATECALL:
            address = node.address
    return to_checksum_address(address), bytes(node.returndata)


@contextmanager
def reverts(error: Any, **inputs: Any) -> Iterator[Any]:
    """`ape.reverts(error, **inputs)`, but strict about who reverted and with what.

    ape.reverts ignores input names it does not know, passes reverts it could not decode, and
    decodes an error bubbled up through another contract with whatever ABI shares its selector.
    Here the innermost reverting contract must be `error`'s, its revert data must decode as
    `error`, and every named input must exist and match.
    """
    with ape.reverts() as info:
        yield info
    exc = info.value
    origin = _revert_origin(exc)
    if origin is None:  # reverted in a call, not a mined transaction: trust ape's decoding
        assert isinstance(exc, error), f"expected {error.__name__}, got {exc!r}"
        actual = dict(exc.inputs)
    else:
        address, data = origin
        expected_address = str(error.contract.address)
        assert address == expected_address, (
            f"expected {error.__name__} from {expected_address}, but {address} reverted with "
            f"0x{data.hex()} ({exc!r})"
        )
        assert data[:4] == keccak(text=error.abi.selector)[:4], (
            f"expected {error.__name__}, got {exc!r} (0x{data.hex()})"
        )
        actual = _chain.provider.network.ecosystem.decode_calldata(error.abi, data[4:])
    unknown = set(inputs) - set(actual)
    assert not unknown, f"{error.__name__} has no inputs {sorted(unknown)}; it has {sorted(actual)}"
    wrong = {
        name: (actual[name], value)
        for name, value in inputs.items()
        if _normalized(actual[name]) != _normalized(value)
    }
    assert not wrong, f"{error.__name__} inputs (actual, expected): {wrong}"
