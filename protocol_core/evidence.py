"""The evidence bundle a worker submits: schema, one canonical encoding, the customer's confirmation."""

import json
import re
from enum import IntEnum
from typing import Any, Literal

from eth_utils import is_checksum_address, keccak, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .eip712 import InvalidSignature, confirmation_message, recover, sign_confirmation
from .errors import ProtocolError

__all__ = ["EvidenceBundle", "Outcome", "build_bundle", "confirmation_signer", "sign_confirmation"]

_JOB_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")
# A string (its closing quote optional, so an unterminated one is consumed once) or a bracket.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*+"?|[\[\]{}]', re.DOTALL)
MAX_DEPTH = 16  # a bundle is one flat object; deeper input is refused before json.loads recurses on it


class MalformedEvidence(ProtocolError):
    """The bytes are not UTF-8 JSON with unique keys."""


class EvidenceSchemaError(ProtocolError):
    """The JSON is valid but the bundle schema refuses it."""


class InvalidConfirmation(ProtocolError):
    """The confirmation is not a well-formed secp256k1 signature."""


class Outcome(IntEnum):
    """What the customer confirmed about the ticket."""

    RESOLVED = 1
    UNRESOLVED = 2


class EvidenceBundle(BaseModel):
    """A worker's evidence for one job; the escrow keeps only `digest()`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1]
    chain_id: int = Field(ge=1, lt=2**256)
    escrow: str  # EIP-55 checksummed JobEscrow address
    job_id: str  # 0x + 64 lowercase hex
    ticket_ref: str = Field(min_length=1, max_length=128)  # the helpdesk's id of the ticket
    outcome: Outcome
    confirmed_at: int = Field(ge=0, lt=2**64)  # unix seconds the customer signed at
    summary: str = Field(max_length=4000)  # resolution notes; later training data
    confirmation: str  # 0x + 130 lowercase hex: the confirmer's EIP-712 signature

    @field_validator("version", "chain_id", "outcome", "confirmed_at", mode="before")
    @classmethod
    def _json_integer(cls, value: Any) -> Any:
        # JSON true and 1.0 would pass as 1; only an integer literal is one encoding.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a JSON integer, got {type(value).__name__}")
        return value

    @field_validator("escrow", mode="before")
    @classmethod
    def _address(cls, value: Any) -> str:
        if not isinstance(value, str) or not is_checksum_address(value):
            raise ValueError("must be an EIP-55 checksummed address; use eth_utils.to_checksum_address")
        return value

    @field_validator("job_id", mode="before")
    @classmethod
    def _bytes32(cls, value: Any) -> str:
        return _hex(value, _JOB_ID, 32, "job_id")

    @field_validator("confirmation", mode="before")
    @classmethod
    def _signature(cls, value: Any) -> str:
        return _hex(value, _SIGNATURE, 65, "confirmation")

    @field_validator("ticket_ref", "summary")
    @classmethod
    def _unicode(cls, value: str) -> str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("contains a lone surrogate; send valid Unicode text") from exc
        return value

    def canonical(self) -> bytes:
        """The one encoding that is hashed: UTF-8 JSON, sorted keys, no whitespace."""
        text = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return text.encode("utf-8")

    def digest(self) -> bytes:
        """keccak256 of `canonical()`: the evidence hash a worker submits on chain."""
        return keccak(self.canonical())

    @classmethod
    def parse(cls, raw: bytes) -> "EvidenceBundle":
        """Parses bytes, raising MalformedEvidence (not UTF-8 JSON) or EvidenceSchemaError (bad bundle)."""
        try:
            text = raw.decode("utf-8")
            _check_depth(text)
            data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise MalformedEvidence(f"evidence is not UTF-8 JSON: {exc}; serve bundle.canonical()") from exc
        if not isinstance(data, dict):
            raise EvidenceSchemaError(f"evidence must be a JSON object, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise EvidenceSchemaError(f"evidence does not match the bundle schema: {exc}") from exc


def _hex(value: Any, pattern: re.Pattern[str], size: int, name: str) -> str:
    if isinstance(value, bytes | bytearray) and len(value) == size:
        return "0x" + bytes(value).hex()
    if isinstance(value, str) and pattern.fullmatch(value):
        return value.lower()
    raise ValueError(f"{name} must be 0x followed by {2 * size} hex digits")


def _check_depth(text: str) -> None:
    # json's C scanner recurses per level; with a raised recursion limit deep input crashes the process.
    depth = 0
    for token in _STRING_OR_BRACKET.findall(text):
        depth += 1 if token in ("[", "{") else -1 if token in ("]", "}") else 0
        if depth > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate key in object: {sorted(k for k in set(keys) if keys.count(k) > 1)}")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def confirmation_signer(bundle: EvidenceBundle) -> str:
    """The checksummed address that signed `bundle.confirmation` over the bundle's own fields."""
    signable = confirmation_message(
        chain_id=bundle.chain_id,
        escrow=bundle.escrow,
        job_id=bytes.fromhex(bundle.job_id[2:]),
        ticket_ref=bundle.ticket_ref,
        outcome=bundle.outcome,
        confirmed_at=bundle.confirmed_at,
    )
    try:
        return recover(signable, bytes.fromhex(bundle.confirmation[2:]))
    except InvalidSignature as exc:
        raise InvalidConfirmation(f"confirmation: {exc}") from exc


def build_bundle(
    private_key: str | bytes,
    *,
    chain_id: int,
    escrow: str,
    job_id: bytes,
    ticket_ref: str,
    outcome: Outcome,
    confirmed_at: int,
    summary: str,
) -> EvidenceBundle:
    """A bundle whose confirmation is signed by `private_key` (the job's confirmer)."""
    escrow, job_id = to_checksum_address(escrow), bytes(job_id)
    confirmation = sign_confirmation(
        private_key,
        chain_id=chain_id,
        escrow=escrow,
        job_id=job_id,
        ticket_ref=ticket_ref,
        outcome=outcome,
        confirmed_at=confirmed_at,
    )
    return EvidenceBundle(
        version=1,
        chain_id=chain_id,
        escrow=escrow,
        job_id="0x" + job_id.hex(),
        ticket_ref=ticket_ref,
        outcome=outcome,
        confirmed_at=confirmed_at,
        summary=summary,
        confirmation=confirmation,
    )
