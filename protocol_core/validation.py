"""Checks of what a person typed (addresses, amounts, bits, URLs) before anything is sent to a chain."""

import re
from decimal import Decimal, InvalidOperation, localcontext
from urllib.parse import urlparse

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

from .errors import ProtocolError
from .terms import ZERO_ADDRESS

USDC_DECIMALS = 6
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")


class InvalidInput(ProtocolError):
    """A value given on the command line or in settings is not usable; the message names it."""


def address(value: str, what: str, *, allow_zero: bool = False) -> str:
    """The checksummed form of `value`; refuses non-addresses, bad EIP-55 checksums and the zero address."""
    text = str(value).strip()
    if not is_hex_address(text):
        raise InvalidInput(f"{what}: {value!r} is not an address (0x followed by 40 hex digits)")
    mixed_case = text[2:] != text[2:].lower() and text[2:] != text[2:].upper()
    if mixed_case and not is_checksum_address(text):
        raise InvalidInput(
            f"{what}: {text} has a wrong EIP-55 checksum (a typo?); "
            f"copy the address again or write it in lower case"
        )
    if not allow_zero and int(text, 16) == 0:
        raise InvalidInput(f"{what}: the zero address cannot hold a role or receive funds")
    return to_checksum_address(text)


def optional_address(value: str | None, what: str) -> str | None:
    """`address(value)` when a value was given, else None."""
    return None if value is None else address(value, what)


def token_amount(value: str, what: str, decimals: int = USDC_DECIMALS) -> int:
    """Token units of a decimal amount ("100", "0.5"); refuses negatives and finer than `decimals`."""
    try:
        amount = Decimal(str(value).strip().replace("_", ""))
    except InvalidOperation:
        raise InvalidInput(f"{what}: {value!r} is not a number (write e.g. 100 or 0.5)") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"{what}: {value!r} must be a positive amount")
    with localcontext() as exact:  # the default 28 digits would round large amounts silently
        exact.prec = 100
        units = amount.scaleb(decimals)
    if units != units.to_integral_value():
        raise InvalidInput(f"{what}: {value!r} has more than {decimals} decimals")
    return int(units)


def format_amount(units: int, decimals: int = USDC_DECIMALS) -> str:
    """Token units as a decimal amount without trailing zeros ("20", "0.5")."""
    whole, fraction = divmod(units, 10**decimals)
    digits = f"{fraction:0{decimals}d}".rstrip("0") if decimals else ""
    return f"{whole}.{digits}" if digits else str(whole)


def bounded(value: int, what: str, low: int, high: int) -> int:
    """`value` when low <= value <= high."""
    if not low <= value <= high:
        raise InvalidInput(f"{what}: {value} is outside {low}..{high}")
    return value


def bits(value: str, what: str, width: int) -> int:
    """A bit mask from "3", "0b101", "0x1f" or a list of bit positions "bit:0,2"; at most `width` bits."""
    text = str(value).strip().lower()
    try:
        if text.startswith("bit:"):
            mask = sum(1 << bounded(int(p), what, 0, width - 1) for p in text[4:].split(",") if p)
        else:
            mask = int(text, 0)
    except ValueError:
        raise InvalidInput(f"{what}: {value!r} is not a bit mask (write 1, 0b101, 0x1f or bit:0,2)") from None
    return bounded(mask, what, 0, 2**width - 1)


def bytes32(value: str, what: str, *, allow_zero: bool = False) -> bytes:
    """32 bytes from 0x + 64 hex digits."""
    text = str(value).strip()
    if not _BYTES32.fullmatch(text):
        raise InvalidInput(f"{what}: {value!r} is not 0x followed by 64 hex digits")
    raw = bytes.fromhex(text[2:])
    if not allow_zero and not any(raw):
        raise InvalidInput(f"{what}: must not be zero")
    return raw


def rpc_url(value: str | None) -> str:
    """An http(s) JSON-RPC URL; refuses a missing one (nothing falls back to public RPCs)."""
    if not value:
        raise InvalidInput(
            "no RPC: pass --rpc-url URL (a local anvil listens on http://127.0.0.1:8545); "
            "nothing falls back to public endpoints"
        )
    parsed = urlparse(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidInput(f"--rpc-url: {value!r} is not an http:// or https:// URL")
    return value.strip()


def is_zero(value: str) -> bool:
    """True for the zero address."""
    return str(value).lower() == ZERO_ADDRESS
