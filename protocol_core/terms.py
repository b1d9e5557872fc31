"""Job terms: the posted agreement whose hash the escrow stores, with its canonical ABI encoding."""

from typing import Any

from eth_utils import keccak
from pydantic import BaseModel, ConfigDict, field_serializer, field_validator

from .abi_words import address_word, bytes32_word, checksum, uint_word

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

# Must match `JobTerms` in contracts/interfaces/IJobEscrow.sol field for field.
TERMS_ABI = (
    "(address,uint96,address,uint64,uint64,address,uint40,uint40,uint32,bytes32,(uint8,uint64,uint32))"
)


class Requirements(BaseModel):
    """What a job asks of its worker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    language: int  # index in protocol_core.languages.LANGUAGES
    expertise: int = 0  # product-expertise bits, all required
    certifications: int = 0  # certification bits, all required

    def as_abi(self) -> tuple[int, int, int]:
        """The tuple the contracts take."""
        return (self.language, self.expertise, self.certifications)


class JobTerms(BaseModel):
    """A job's posted terms; the escrow keeps only `digest()`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent: str
    reward: int
    confirmer: str = ZERO_ADDRESS
    oracle_fee: int
    protocol_fee: int
    offered_to: str = ZERO_ADDRESS
    accept_by: int
    resolve_by: int
    challenge_window: int = 0
    spec_hash: bytes
    requirements: Requirements

    @field_validator("agent", "confirmer", "offered_to", mode="before")
    @classmethod
    def _checksum(cls, value: Any) -> str:
        return checksum(str(value))

    @field_validator("spec_hash", mode="before")
    @classmethod
    def _bytes32(cls, value: Any) -> bytes:
        raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
        if len(raw) != 32:
            raise ValueError(f"spec_hash must be 32 bytes, got {len(raw)}")
        return raw

    @field_serializer("spec_hash", when_used="json")
    def _hex(self, value: bytes) -> str:
        return "0x" + value.hex()

    @property
    def total(self) -> int:
        """What posting pulls from the agent."""
        return self.reward + self.oracle_fee + self.protocol_fee

    def as_abi(self) -> tuple[Any, ...]:
        """The struct as the contracts take it."""
        return (
            self.agent,
            self.reward,
            self.confirmer,
            self.oracle_fee,
            self.protocol_fee,
            self.offered_to,
            self.accept_by,
            self.resolve_by,
            self.challenge_window,
            self.spec_hash,
            self.requirements.as_abi(),
        )

    def digest(self) -> bytes:
        """keccak256(abi.encode(terms)): the job's id on chain (`JobEscrow.jobIdOf(terms)`). Every
        field is static, so the encoding is one word per field in TERMS_ABI's order (abi_words)."""
        r = self.requirements
        return keccak(
            address_word(self.agent)
            + uint_word(self.reward, 96)
            + address_word(self.confirmer)
            + uint_word(self.oracle_fee, 64)
            + uint_word(self.protocol_fee, 64)
            + address_word(self.offered_to)
            + uint_word(self.accept_by, 40)
            + uint_word(self.resolve_by, 40)
            + uint_word(self.challenge_window, 32)
            + bytes32_word(self.spec_hash)
            + uint_word(r.language, 8)
            + uint_word(r.expertise, 64)
            + uint_word(r.certifications, 32)
        )

    @classmethod
    def from_event(cls, terms: Any) -> "JobTerms":
        """Rebuilds the terms from a `JobPosted` event's `terms` field (a struct or a plain list)."""
        fields = list(terms.values()) if isinstance(terms, dict) else list(terms)
        *head, spec_hash, requirements = fields
        req = list(requirements.values()) if isinstance(requirements, dict) else list(requirements)
        agent, reward, confirmer, oracle_fee, protocol_fee, offered_to, accept_by, resolve_by, window = head
        return cls(
            agent=agent,
            reward=reward,
            confirmer=confirmer,
            oracle_fee=oracle_fee,
            protocol_fee=protocol_fee,
            offered_to=offered_to,
            accept_by=accept_by,
            resolve_by=resolve_by,
            challenge_window=window,
            spec_hash=spec_hash,
            requirements=Requirements(language=req[0], expertise=req[1], certifications=req[2]),
        )
