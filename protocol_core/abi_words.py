"""The ABI encoding of static values and flat EIP-712 structs, done word by word, with the secp256k1
signing and recovery the hot paths share.

The oracle node hashes job terms, attestations, evidence and confirmations several times per job;
eth_abi's and eth_account's generic encoders validate through layers of helpers and cost most of a
node's CPU there. Every struct the protocol hashes is static or flat (strings and bytes are hashed
in place), so its encoding is 32-byte words in field order, built here with the same range checks.
tests/protocol_core/test_abi_words.py pins every function to the generic encoders.
"""

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from coincurve import PrivateKey, PublicKey
from eth_utils import keccak, to_checksum_address

ZERO_PAD = bytes(12)


@lru_cache(maxsize=1 << 16)
def checksum(address: str) -> str:
    """The EIP-55 form of `address` (ValueError when it is not one); addresses repeat, so cached."""
    return to_checksum_address(address)


def uint_word(value: int, bits: int = 256) -> bytes:
    """An unsigned integer of `bits` bits as one word; ValueError when it does not fit."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise ValueError(f"{value!r} is not a uint{bits}")
    return value.to_bytes(32, "big")


def address_word(address: str | bytes) -> bytes:
    """An address (0x + 40 hex digits, any case, or 20 bytes) as one word."""
    raw = bytes.fromhex(address[2:]) if isinstance(address, str) and address[:2] in ("0x", "0X") else address
    if not isinstance(raw, bytes | bytearray) or len(raw) != 20:
        raise ValueError(f"{address!r} is not an address")
    return ZERO_PAD + bytes(raw)


def bytes32_word(value: bytes) -> bytes:
    """A bytes32 as one word."""
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise ValueError(f"{value!r} is not 32 bytes")
    return bytes(value)


def bool_word(value: bool) -> bytes:
    """A bool as one word."""
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not a bool")
    return uint_word(int(value))


def word(kind: str, value: Any) -> bytes:
    """`value` of the Solidity type `kind` as EIP-712 encodes a struct member: one word, with a string
    or bytes hashed in place (no arrays or nested structs: the protocol's structs have none)."""
    if kind == "bytes32":
        return bytes32_word(value)
    if kind == "address":
        return address_word(value)
    if kind == "bool":
        return bool_word(value)
    if kind == "string":
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a string")
        return keccak(value.encode())
    if kind == "bytes":
        return keccak(bytes(value))
    if kind.startswith("uint"):
        return uint_word(value, int(kind[4:] or 256))
    raise ValueError(f"unsupported EIP-712 member type {kind}")


def encode_static(kinds: Sequence[str], values: Iterable[Any]) -> bytes:
    """abi.encode of static values (bytes32, address, bool, uintN), one word each."""
    return b"".join(word(kind, value) for kind, value in zip(kinds, values, strict=True))


@lru_cache(maxsize=64)
def type_hash(name: str, members: tuple[tuple[str, str], ...]) -> bytes:
    """keccak of `Name(type1 name1,type2 name2,...)`."""
    return keccak(f"{name}({','.join(f'{kind} {field}' for kind, field in members)})".encode())


def struct_hash(name: str, members: tuple[tuple[str, str], ...], message: dict[str, Any]) -> bytes:
    """EIP-712 hashStruct of a flat struct: `members` are (type, name) pairs in order."""
    words = (word(kind, message[field]) for kind, field in members)
    return keccak(type_hash(name, members) + b"".join(words))


DOMAIN_MEMBERS = (
    ("string", "name"),
    ("string", "version"),
    ("uint256", "chainId"),
    ("address", "verifyingContract"),
)


@lru_cache(maxsize=64)
def domain_separator(name: str, version: str, chain_id: int, contract: str) -> bytes:
    """The EIP-712 domain separator of (name, version, chainId, verifyingContract)."""
    domain = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": contract}
    return struct_hash("EIP712Domain", DOMAIN_MEMBERS, domain)


def sign_hash(private_key: bytes, digest: bytes) -> tuple[int, int, int]:
    """(v 27/28, r, s) of `digest`, low s (libsecp256k1 normalises)."""
    raw = PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return 27 + raw[64], int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")


def recover_hash(digest: bytes, v: int, r: int, s: int) -> str:
    """The checksummed address that signed `digest` as (v 27/28, r, s); ValueError when none did."""
    if v not in (27, 28) or not 0 < r < 1 << 256 or not 0 < s < 1 << 256:
        raise ValueError("v must be 27 or 28 and r, s nonzero words")
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v - 27])
    public = PublicKey.from_signature_and_message(signature, digest, hasher=None)
    return checksum("0x" + keccak(public.format(compressed=False)[1:])[-20:].hex())
