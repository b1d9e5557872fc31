"""Every EIP-712 message of the protocol, signed and recovered in one place.

Attestations (operators, for `VerificationOracle.attestWithSignatures` and `submitAndAttest`),
customer confirmations (the job's confirmer, inside an evidence bundle), EIP-2612 permits (agents,
for `postJobWithPermit`), and what a worker signs for someone else to relay: an acceptance and its
evidence (the escrow's domain), its registration and availability (the registry's domain, with a
per-worker nonce). Each is bound to a chain id and a verifying contract by its domain, and the
worker's messages to a deadline.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage
from eth_utils import keccak, to_checksum_address

from .abi_words import checksum, domain_separator, recover_hash, struct_hash
from .errors import ProtocolError


def _fields(*typed_names: str) -> list[dict[str, str]]:
    """EIP-712 struct members from "type name" pairs, in order."""
    return [dict(zip(("type", "name"), pair.split(), strict=True)) for pair in typed_names]


SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0

ATTESTATION_DOMAIN = ("EscalationVerificationOracle", "1")
ATTESTATION_TYPES = {
    "Attestation": _fields(
        "bytes32 jobId", "bytes32 evidenceHash", "bool approve", "uint8 reason", "uint64 setNonce"
    )
}
CONFIRMATION_DOMAIN = ("EscalationCustomerConfirmation", "1")
CONFIRMATION_TYPES = {
    "Confirmation": _fields("bytes32 jobId", "string ticketRef", "uint8 outcome", "uint64 confirmedAt")
}
ESCROW_DOMAIN = ("EscalationJobEscrow", "1")
ACCEPTANCE_TYPES = {"Acceptance": _fields("bytes32 jobId", "address worker", "uint256 deadline")}
EVIDENCE_TYPES = {
    "Evidence": _fields("bytes32 jobId", "bytes32 evidenceHash", "string uri", "uint256 deadline")
}
REGISTRY_DOMAIN = ("EscalationWorkerRegistry", "1")
REGISTRATION_TYPES = {
    "Registration": _fields(
        "address worker",
        "uint64 languages",
        "uint64 expertise",
        "uint8 maxConcurrent",
        "bytes32 encryptionKey",
        "string profileURI",
        "uint256 nonce",
        "uint256 deadline",
    )
}
AVAILABILITY_TYPES = {
    "Availability": _fields("address worker", "bool available", "uint256 nonce", "uint256 deadline")
}
PERMIT_TYPES = {
    "Permit": _fields(
        "address owner", "address spender", "uint256 value", "uint256 nonce", "uint256 deadline"
    )
}


class InvalidSignature(ProtocolError):
    """A signature is not a well-formed, low-s secp256k1 signature or recovers no signer."""


@dataclass(frozen=True)
class Permit:
    """An EIP-2612 permit as `postJobWithPermit` takes it."""

    value: int
    deadline: int
    v: int
    r: bytes
    s: bytes


def _typed(
    name_version: tuple[str, str], chain_id: int, contract: str, types: Any, message: Any
) -> SignableMessage:
    """The EIP-712 message of a flat struct (abi_words encodes it; pinned to eth_account's encoder)."""
    ((name, fields),) = types.items()
    members = tuple((field["type"], field["name"]) for field in fields)
    separator = domain_separator(*name_version, chain_id, checksum(contract))
    return SignableMessage(b"\x01", separator, struct_hash(name, members, message))


def recover(signable: SignableMessage, signature: bytes) -> str:
    """The checksummed signer of a 65-byte signature; one signature per message (v 27/28, low s)."""
    if len(signature) != 65:
        raise InvalidSignature(f"a signature is 65 bytes, got {len(signature)}")
    r, s, v = int.from_bytes(signature[:32]), int.from_bytes(signature[32:64]), signature[64]
    # EIP-2 malleability rules, as OpenZeppelin's ECDSA requires on chain.
    if v not in (27, 28) or r == 0 or not 0 < s <= SECP256K1_HALF_N:
        raise InvalidSignature("signature must be 65 bytes with v 27/28 and low s")
    try:
        return recover_hash(digest(signable), v, r, s)
    except Exception as exc:  # coincurve raises several types for unrecoverable points
        raise InvalidSignature(f"signature does not recover a signer: {exc}") from exc


def digest(signable: SignableMessage) -> bytes:
    """The 32 bytes a signer signs (what the contracts' `...Digest` views return)."""
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_compact(private_key: str | bytes, signable: SignableMessage) -> list[bytes]:
    """A signature in the compact EIP-2098 form the contracts take: [r, yParity|s]."""
    signed = Account.sign_message(signable, private_key)
    y_parity_and_s = signed.s | ((signed.v - 27) << 255)
    return [signed.r.to_bytes(32, "big"), y_parity_and_s.to_bytes(32, "big")]


def recover_compact(signable: SignableMessage, signature: Sequence[bytes]) -> str:
    """The checksummed signer of a compact [r, yParity|s] signature (low s, as on chain)."""
    if len(signature) != 2 or any(len(word) != 32 for word in signature):
        raise InvalidSignature("a compact signature is two 32-byte words [r, yParity|s]")
    vs = int.from_bytes(signature[1], "big")
    v, s = 27 + (vs >> 255), vs & ((1 << 255) - 1)
    return recover(signable, bytes(signature[0]) + s.to_bytes(32, "big") + bytes([v]))


def attestation_message(
    *,
    chain_id: int,
    oracle: str,
    job_id: bytes,
    evidence_hash: bytes,
    approve: bool,
    reason: int,
    set_nonce: int,
) -> SignableMessage:
    """An operator's attestation of a verdict under operator-set nonce `set_nonce`."""
    message = {
        "jobId": bytes(job_id),
        "evidenceHash": bytes(evidence_hash),
        "approve": approve,
        "reason": int(reason),
        "setNonce": set_nonce,
    }
    return _typed(ATTESTATION_DOMAIN, chain_id, oracle, ATTESTATION_TYPES, message)


def sign_attestation(private_key: str | bytes, **fields: Any) -> list[bytes]:
    """An attestation in the compact EIP-2098 form the oracle takes: [r, yParity|s]."""
    return sign_compact(private_key, attestation_message(**fields))


def acceptance_message(
    *, chain_id: int, escrow: str, job_id: bytes, worker: str, deadline: int
) -> SignableMessage:
    """A worker's acceptance of job `job_id`, for `JobEscrow.acceptJobFor` until `deadline`."""
    message = {"jobId": bytes(job_id), "worker": to_checksum_address(worker), "deadline": deadline}
    return _typed(ESCROW_DOMAIN, chain_id, escrow, ACCEPTANCE_TYPES, message)


def evidence_message(
    *, chain_id: int, escrow: str, job_id: bytes, evidence_hash: bytes, uri: str, deadline: int
) -> SignableMessage:
    """A worker's evidence for `JobEscrow.submitEvidenceFor` and `VerificationOracle.submitAndAttest`."""
    message = {"jobId": bytes(job_id), "evidenceHash": bytes(evidence_hash), "uri": uri, "deadline": deadline}
    return _typed(ESCROW_DOMAIN, chain_id, escrow, EVIDENCE_TYPES, message)


def registration_message(
    *,
    chain_id: int,
    registry: str,
    worker: str,
    languages: int,
    expertise: int,
    max_concurrent: int,
    encryption_key: bytes,
    profile_uri: str,
    nonce: int,
    deadline: int,
) -> SignableMessage:
    """A worker's profile for `WorkerRegistry.registerFor`; `nonce` is the registry's `nonces(worker)`."""
    message = {
        "worker": to_checksum_address(worker),
        "languages": languages,
        "expertise": expertise,
        "maxConcurrent": max_concurrent,
        "encryptionKey": bytes(encryption_key),
        "profileURI": profile_uri,
        "nonce": nonce,
        "deadline": deadline,
    }
    return _typed(REGISTRY_DOMAIN, chain_id, registry, REGISTRATION_TYPES, message)


def availability_message(
    *, chain_id: int, registry: str, worker: str, available: bool, nonce: int, deadline: int
) -> SignableMessage:
    """A worker's availability switch for `WorkerRegistry.setAvailabilityFor`."""
    message = {
        "worker": to_checksum_address(worker),
        "available": available,
        "nonce": nonce,
        "deadline": deadline,
    }
    return _typed(REGISTRY_DOMAIN, chain_id, registry, AVAILABILITY_TYPES, message)


def confirmation_message(
    *, chain_id: int, escrow: str, job_id: bytes, ticket_ref: str, outcome: int, confirmed_at: int
) -> SignableMessage:
    """The customer's confirmation of a ticket's outcome, signed by the job's confirmer."""
    message = {
        "jobId": bytes(job_id),
        "ticketRef": ticket_ref,
        "outcome": int(outcome),
        "confirmedAt": confirmed_at,
    }
    return _typed(CONFIRMATION_DOMAIN, chain_id, escrow, CONFIRMATION_TYPES, message)


def sign_confirmation(private_key: str | bytes, **fields: Any) -> str:
    """The confirmer's signature of a confirmation, as 0x + 65 bytes of hex."""
    return "0x" + bytes(Account.sign_message(confirmation_message(**fields), private_key).signature).hex()


def permit_message(
    *,
    token_name: str,
    chain_id: int,
    token: str,
    owner: str,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
    version: str = "1",
) -> SignableMessage:
    """An EIP-2612 permit under the token's EIP-712 domain (Circle's USDC uses version "2")."""
    message = {
        "owner": to_checksum_address(owner),
        "spender": to_checksum_address(spender),
        "value": value,
        "nonce": nonce,
        "deadline": deadline,
    }
    return _typed((token_name, version), chain_id, token, PERMIT_TYPES, message)


def sign_permit(private_key: str | bytes, **fields: Any) -> Permit:
    """A signed EIP-2612 permit (see `permit_message` for the fields)."""
    signed = Account.sign_message(permit_message(**fields), private_key)
    return Permit(
        value=fields["value"],
        deadline=fields["deadline"],
        v=signed.v,
        r=signed.r.to_bytes(32, "big"),
        s=signed.s.to_bytes(32, "big"),
    )
