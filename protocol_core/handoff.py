"""What travels off chain in the relayed flow: a worker's evidence handed to an operator's node, and an
operator's attestation signature sent to its peers. JSON over HTTP; every field is checked on arrival.
"""

from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .abi_words import checksum
from .attestation_digest import attestation_digest, recover_digest
from .relayed import Signature, SignedEvidence
from .terms import JobTerms

Hex32 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]
CompactSignature = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{128}$")]  # r ‖ yParity|s
MAX_URI_CHARS = 2_048  # as the node's log decoder: longer URIs are refused


def compact_hex(signature: Signature) -> str:
    """A compact signature (r, yParity|s) as 0x + 128 hex digits."""
    return "0x" + bytes(signature[0]).hex() + bytes(signature[1]).hex()


def compact_bytes(text: str) -> Signature:
    """The (r, yParity|s) words of a 0x + 128 hex signature."""
    raw = bytes.fromhex(text[2:])
    return (raw[:32], raw[32:])


class EvidenceRecord(BaseModel):
    """A job's evidence as operators pass it around: the terms, the hash and URI, and, when the worker
    handed it in, its `Evidence` signature (and maybe the bundle's bytes, inline)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    terms: JobTerms
    evidence_hash: Hex32
    uri: Annotated[str, Field(min_length=1, max_length=MAX_URI_CHARS)]
    worker: str | None = None  # the job's worker, who signed `signature`
    deadline: int | None = None  # the signature's deadline, unix seconds
    signature: CompactSignature | None = None
    bundle: str | None = None  # the bundle's canonical JSON text; keccak of its UTF-8 bytes is the hash

    @field_validator("worker", mode="before")
    @classmethod
    def _checksum(cls, value: Any) -> str | None:
        return None if value is None else checksum(str(value))

    @cached_property
    def job_id(self) -> str:
        """0x + the terms' hash: the job's id on chain (hashed once: it is asked for often)."""
        return "0x" + self.terms.digest().hex()

    def signed_evidence(self) -> SignedEvidence:
        """The worker's signed evidence as the contracts take it; ValueError when it is not signed."""
        if self.signature is None or self.deadline is None:
            raise ValueError("the evidence carries no worker signature")
        return SignedEvidence(
            bytes.fromhex(self.evidence_hash[2:]), self.uri, self.deadline, compact_bytes(self.signature)
        )

    def evidence_signer(self, *, chain_id: int, escrow: str) -> str:
        """Who signed the evidence for this job under the escrow's domain (InvalidSignature if nobody)."""
        return self.signed_evidence().signer(chain_id=chain_id, escrow=escrow, job_id=self.terms.digest())


class IntakeRequest(EvidenceRecord):
    """What a worker POSTs to an operator's node: the record with its signature required."""

    worker: str
    deadline: int
    signature: CompactSignature


class AttestationSignature(BaseModel):
    """One operator's signed verdict on one record, under the operator-set nonce `set_nonce`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    evidence: EvidenceRecord
    approve: bool
    reason: Annotated[int, Field(ge=0, le=255)]
    set_nonce: Annotated[int, Field(ge=0)]
    signer: str
    signature: CompactSignature

    @field_validator("signer", mode="before")
    @classmethod
    def _checksum(cls, value: Any) -> str:
        return checksum(str(value))

    def recovered(self, *, chain_id: int, oracle: str) -> str:
        """Who signed this attestation (InvalidSignature when it does not recover)."""
        message = attestation_digest(
            chain_id=chain_id,
            oracle=oracle,
            job_id=bytes.fromhex(self.evidence.job_id[2:]),
            evidence_hash=bytes.fromhex(self.evidence.evidence_hash[2:]),
            approve=self.approve,
            reason=self.reason,
            set_nonce=self.set_nonce,
        )
        return recover_digest(message, compact_bytes(self.signature))


class SignatureBatch(BaseModel):
    """What one node POSTs to a peer: its new signatures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signatures: Annotated[list[AttestationSignature], Field(max_length=512)]
