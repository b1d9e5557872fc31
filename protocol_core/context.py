"""The context bundle handed to a worker: schema, one canonical encoding, and the spec hash it commits to.

A bundle holds what the worker needs to resolve a ticket (the conversation, customer context, the
issue, links to internal docs, acceptance criteria) after personal data was redacted. The job's
`spec_hash` commits to the bundle and, separately, to its acceptance criteria:

    spec_hash = keccak256(abi.encode(SPEC_TAG, context_hash, criteria_hash))

so the criteria can be shown to anyone (an oracle, an arbitrator) and checked against the chain
without revealing the conversation, and the sealed bundle can be checked by its reader.
"""

import json
import unicodedata
from typing import Any, Literal

from eth_abi import encode
from eth_utils import keccak
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ProtocolError

SPEC_TAG = keccak(text="EscalationSpec/1")  # domain separation: a spec hash is never another hash
MAX_CRITERIA = 32


class ContextError(ProtocolError):
    """Bytes are not a context bundle, or a bundle does not match the spec hash it should."""


def _nfc(value: Any) -> Any:
    """Unicode NFC of every string inside `value`: one text, one encoding."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("contains a lone surrogate; send valid Unicode text") from exc
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        normal = {_nfc(k): _nfc(v) for k, v in value.items()}
        if len(normal) != len(value):
            raise ValueError("two keys are the same text in different Unicode forms; keep one")
        return normal
    if isinstance(value, list | tuple):
        return [_nfc(v) for v in value]
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        return _nfc(value) if isinstance(value, dict) else value


class Message(_Frozen):
    """One message of the conversation."""

    role: Literal["customer", "agent", "note"]
    text: str = Field(max_length=100_000)
    ts: int = Field(ge=0, lt=2**64)  # unix seconds


class DocLink(_Frozen):
    """A link to an internal document the worker may need."""

    title: str = Field(max_length=500)
    url: str = Field(max_length=2_000)


class Redactions(_Frozen):
    """What was removed before sealing: counts per kind (never the values)."""

    counts: dict[str, int] = Field(default_factory=dict)


class ContextBundle(_Frozen):
    """Everything a worker reads about a ticket; the sealed payload of a job."""

    version: Literal[1] = 1
    ticket_ref: str = Field(min_length=1, max_length=128)  # the helpdesk's id of the ticket
    language: str = Field(min_length=2, max_length=3)  # ISO 639-1, as the requirements say
    issue: str = Field(max_length=20_000)  # the problem in the agent's words
    conversation: tuple[Message, ...] = ()
    customer: dict[str, str] = Field(default_factory=dict)  # plan, account age, product, ...
    docs: tuple[DocLink, ...] = ()
    acceptance_criteria: tuple[str, ...] = Field(min_length=1, max_length=MAX_CRITERIA)
    redactions: Redactions = Field(default_factory=Redactions)

    @field_validator("acceptance_criteria")
    @classmethod
    def _criteria(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("an acceptance criterion is empty; say what the worker must achieve")
        return value

    def canonical(self) -> bytes:
        """The one encoding that is hashed and sealed: UTF-8 JSON, NFC text, sorted keys, no whitespace."""
        return canonical_json(self.model_dump(mode="json"))

    def context_hash(self) -> bytes:
        """keccak256 of `canonical()`."""
        return keccak(self.canonical())

    def criteria_hash(self) -> bytes:
        """keccak256 of the acceptance criteria alone, as a canonical JSON list."""
        return criteria_hash(self.acceptance_criteria)

    def spec_hash(self) -> bytes:
        """The job's `spec_hash`: commits to this bundle and to its acceptance criteria."""
        return spec_hash(self.context_hash(), self.criteria_hash())

    @classmethod
    def parse(cls, raw: bytes) -> "ContextBundle":
        """Parses canonical bytes; ContextError if they are not a bundle or not in canonical form."""
        try:
            data = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
            bundle = cls.model_validate(data)
        except (UnicodeDecodeError, ValueError, ValidationError) as exc:
            raise ContextError(f"not a context bundle: {exc}") from exc
        if bundle.canonical() != raw:
            raise ContextError("the bundle is not in canonical form; build it with ContextBundle.canonical()")
        return bundle

    def check_spec(self, expected_spec_hash: bytes) -> None:
        """Raises ContextError unless this bundle is the one the job's terms commit to."""
        if self.spec_hash() != bytes(expected_spec_hash):
            raise ContextError(
                f"the bundle's spec hash 0x{self.spec_hash().hex()} is not the job's "
                f"0x{bytes(expected_spec_hash).hex()}: it is not the context this job was posted with"
            )


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace, strings in NFC."""
    return json.dumps(_nfc(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def criteria_hash(criteria: tuple[str, ...] | list[str]) -> bytes:
    """keccak256 of the criteria as a canonical JSON list (order kept: it is the worker's checklist)."""
    return keccak(canonical_json(list(criteria)))


def spec_hash(context_hash: bytes, criteria_hash_: bytes) -> bytes:
    """keccak256(abi.encode(SPEC_TAG, context_hash, criteria_hash))."""
    return keccak(encode(["bytes32", "bytes32", "bytes32"], [SPEC_TAG, context_hash, criteria_hash_]))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in a JSON object")
    return dict(pairs)
