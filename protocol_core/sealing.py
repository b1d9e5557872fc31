"""Sealed payloads: encrypted to one reader's X25519 key, signed by the sender's Ethereum key.

A NaCl sealed box hides the payload from everyone but the holder of the recipient's X25519 private
key, but says nothing about who made it. So the sender (the agent, the address in the job's terms)
signs an EIP-712 `Sealed` message over the ciphertext's hash, the payload's hash, the recipient and
its key, under a domain bound to the chain and the escrow. Opening checks, in this order and before
anything is decrypted or returned: the key is the one sealed to, the signature recovers the
expected sender (any change to the ciphertext or the header changes the digest), then decryption,
then the payload's hash.
"""

import base64
import binascii
import re
from typing import Any, Literal, Protocol

from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import is_checksum_address, keccak, to_checksum_address
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .context import ContextBundle, canonical_json
from .eip712 import InvalidSignature, recover
from .errors import ProtocolError

SEALED_DOMAIN = ("EscalationSealedPayload", "1")
SEALED_TYPES = {
    "Sealed": [
        {"name": "kind", "type": "string"},
        {"name": "recipient", "type": "address"},
        {"name": "recipientKey", "type": "bytes32"},
        {"name": "payloadHash", "type": "bytes32"},
        {"name": "ciphertextHash", "type": "bytes32"},
    ]
}
Kind = Literal["context", "evidence", "case"]
_HEX32 = re.compile(r"0x[0-9a-f]{64}")
_SIGNATURE = re.compile(r"0x[0-9a-f]{130}")


class SealError(ProtocolError):
    """A sealed payload cannot be opened; the message says why."""


class MalformedSeal(SealError):
    """The bytes are not a sealed envelope."""


class WrongKey(SealError):
    """The envelope is sealed to another key than the one given."""


class TamperedSeal(SealError):
    """The envelope was changed after sealing, or was not signed by the expected sender."""


class MessageSigner(Protocol):
    """Anything that signs an EIP-712 message (eth_account's LocalAccount)."""

    def sign_message(self, signable_message: SignableMessage) -> Any: ...


class SealedEnvelope(BaseModel):
    """A payload sealed to one reader; `canonical()` is what a content store holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    kind: Kind
    chain_id: int = Field(ge=1, lt=2**256)
    escrow: str  # the domain's verifying contract
    sender: str  # who signed: the job's agent
    recipient: str  # the reader's address (the worker, an arbitrator)
    recipient_key: str  # 0x + 64 hex: the reader's X25519 public key
    payload_hash: str  # 0x + 64 hex: keccak256 of the plaintext
    ciphertext: str  # standard base64 of the sealed box
    signature: str  # 0x + 130 hex: the sender's EIP-712 signature of `Sealed`

    @field_validator("escrow", "sender", "recipient", mode="before")
    @classmethod
    def _address(cls, value: Any) -> str:
        if not isinstance(value, str) or not is_checksum_address(value):
            raise ValueError("must be an EIP-55 checksummed address")
        return value

    @field_validator("recipient_key", "payload_hash")
    @classmethod
    def _hex32(cls, value: str) -> str:
        if not _HEX32.fullmatch(value):
            raise ValueError("must be 0x + 64 lowercase hex")
        return value

    @field_validator("signature")
    @classmethod
    def _signature(cls, value: str) -> str:
        if not _SIGNATURE.fullmatch(value):
            raise ValueError("must be 0x + 130 lowercase hex")
        return value

    def canonical(self) -> bytes:
        """UTF-8 JSON, sorted keys, no whitespace."""
        return canonical_json(self.model_dump(mode="json"))

    def digest(self) -> bytes:
        """keccak256 of `canonical()`: the envelope's content address."""
        return keccak(self.canonical())

    def signable(self) -> SignableMessage:
        """The EIP-712 message the sender signed."""
        return sealed_message(
            chain_id=self.chain_id, escrow=self.escrow, kind=self.kind, recipient=self.recipient,
            recipient_key=bytes.fromhex(self.recipient_key[2:]),
            payload_hash=bytes.fromhex(self.payload_hash[2:]),
            ciphertext_hash=keccak(self._ciphertext()),
        )  # fmt: skip

    def _ciphertext(self) -> bytes:
        try:
            return base64.b64decode(self.ciphertext, validate=True)
        except binascii.Error as exc:
            raise MalformedSeal(f"the ciphertext is not base64: {exc}") from exc

    @classmethod
    def parse(cls, raw: bytes) -> "SealedEnvelope":
        """Parses an envelope's bytes; MalformedSeal when they are not one."""
        try:
            return cls.model_validate_json(raw)
        except (ValidationError, ValueError) as exc:
            raise MalformedSeal(f"not a sealed envelope: {exc}") from exc


def sealed_message(
    *, chain_id: int, escrow: str, kind: str, recipient: str, recipient_key: bytes,
    payload_hash: bytes, ciphertext_hash: bytes,
) -> SignableMessage:  # fmt: skip
    """The sender's EIP-712 statement: this ciphertext of this payload is for this reader and key."""
    name, version = SEALED_DOMAIN
    domain = {"name": name, "version": version, "chainId": chain_id,
              "verifyingContract": to_checksum_address(escrow)}  # fmt: skip
    message = {
        "kind": kind,
        "recipient": to_checksum_address(recipient),
        "recipientKey": recipient_key,
        "payloadHash": payload_hash,
        "ciphertextHash": ciphertext_hash,
    }
    return encode_typed_data(domain_data=domain, message_types=SEALED_TYPES, message_data=message)


def seal(
    payload: bytes,
    *,
    kind: Kind,
    signer: MessageSigner,
    sender: str,
    recipient: str,
    recipient_key: bytes,
    chain_id: int,
    escrow: str,
) -> SealedEnvelope:
    """Encrypts `payload` to `recipient_key` (32-byte X25519) and signs the envelope as `sender`."""
    if len(recipient_key) != 32 or recipient_key == bytes(32):
        raise SealError(f"an X25519 public key is 32 non-zero bytes, got 0x{bytes(recipient_key).hex()}")
    ciphertext = SealedBox(PublicKey(bytes(recipient_key))).encrypt(payload)
    fields = dict(
        kind=kind, chain_id=chain_id, escrow=to_checksum_address(escrow),
        sender=to_checksum_address(sender), recipient=to_checksum_address(recipient),
        recipient_key="0x" + bytes(recipient_key).hex(), payload_hash="0x" + keccak(payload).hex(),
        ciphertext=base64.b64encode(ciphertext).decode("ascii"),
    )  # fmt: skip
    signable = sealed_message(
        chain_id=chain_id, escrow=escrow, kind=kind, recipient=recipient, recipient_key=bytes(recipient_key),
        payload_hash=keccak(payload), ciphertext_hash=keccak(ciphertext),
    )  # fmt: skip
    signature = bytes(signer.sign_message(signable).signature)
    return SealedEnvelope(**fields, signature="0x" + signature.hex())  # type: ignore[arg-type]


def sealed_signer(envelope: SealedEnvelope) -> str:
    """The address whose signature the envelope carries; TamperedSeal when it recovers none."""
    try:
        return recover(envelope.signable(), bytes.fromhex(envelope.signature[2:]))
    except InvalidSignature as exc:
        raise TamperedSeal(f"the envelope's signature is not valid: {exc}") from exc


def open_sealed(
    envelope: SealedEnvelope | bytes, key: PrivateKey, *, expected_sender: str, kind: Kind | None = None
) -> bytes:
    """The payload, after the key, the sender's signature and the payload's hash are checked."""
    sealed = SealedEnvelope.parse(envelope) if isinstance(envelope, bytes) else envelope
    mine = "0x" + bytes(key.public_key).hex()
    if sealed.recipient_key != mine:
        raise WrongKey(
            f"sealed to the X25519 key {sealed.recipient_key} of {sealed.recipient}, not to yours ({mine}): "
            "only that key can open it; ask the sender to seal it to your registered key"
        )
    if kind is not None and sealed.kind != kind:
        raise TamperedSeal(f"the envelope holds a {sealed.kind!r} payload, not a {kind!r} one")
    signer = sealed_signer(sealed)
    if signer != to_checksum_address(expected_sender):
        raise TamperedSeal(
            f"the envelope's signature recovers {signer}, not the sender {expected_sender}: it was altered "
            "after sealing or forged; do not use it, fetch it again from the sender"
        )
    try:
        payload = SealedBox(key).decrypt(sealed._ciphertext())
    except CryptoError as exc:  # a signed ciphertext that does not decrypt: the sender sealed garbage
        raise TamperedSeal(f"the signed ciphertext does not decrypt with your key: {exc}") from exc
    if "0x" + keccak(payload).hex() != sealed.payload_hash:
        raise TamperedSeal("the decrypted payload does not match the signed payload hash")
    return payload


def open_context(
    envelope: SealedEnvelope | bytes, key: PrivateKey, *, agent: str, spec_hash: bytes | None = None
) -> ContextBundle:
    """A worker's (or arbitrator's) view of a job's context: opened, parsed, checked against the terms."""
    bundle = ContextBundle.parse(open_sealed(envelope, key, expected_sender=agent, kind="context"))
    if spec_hash is not None:
        bundle.check_spec(spec_hash)
    return bundle
