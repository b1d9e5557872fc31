"""Every EIP-712 message of the protocol, signed and recovered in one place.

Attestations (operators, for `VerificationOracle.attestWithSignatures`), customer confirmations
(the job's confirmer, inside an evidence bundle) and EIP-2612 permits (agents, for
`postJobWithPermit`). Each is bound to a chain id and a verifying contract by its domain.
"""

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import to_checksum_address

from .errors import ProtocolError

SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0

ATTESTATION_DOMAIN = ("EscalationVerificationOracle", "1")
ATTESTATION_TYPES = {
    "Attestation": [
        {"name": "jobId", "type": "bytes32"},
        {"name": "evidenceHash", "type": "bytes32"},
        {"name": "approve", "type": "bool"},
        {"name": "reason", "type": "uint8"},
        {"name": "setNonce", "type": "uint64"},
    ]
}
CONFIRMATION_DOMAIN = ("EscalationCustomerConfirmation", "1")
CONFIRMATION_TYPES = {
    "Confirmation": [
        {"name": "jobId", "type": "bytes32"},
        {"name": "ticketRef", "type": "string"},
        {"name": "outcome", "type": "uint8"},
        {"name": "confirmedAt", "type": "uint64"},
    ]
}
PERMIT_TYPES = {
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
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
    name, version = name_version
    domain = {
        "name": name,
        "version": version,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(contract),
    }
    return encode_typed_data(domain_data=domain, message_types=types, message_data=message)


def recover(signable: SignableMessage, signature: bytes) -> str:
    """The checksummed signer of a 65-byte signature; one signature per message (v 27/28, low s)."""
    if len(signature) != 65:
        raise InvalidSignature(f"a signature is 65 bytes, got {len(signature)}")
    r, s, v = int.from_bytes(signature[:32]), int.from_bytes(signature[32:64]), signature[64]
    # EIP-2 malleability rules, as OpenZeppelin's ECDSA requires on chain.
    if v not in (27, 28) or r == 0 or not 0 < s <= SECP256K1_HALF_N:
        raise InvalidSignature("signature must be 65 bytes with v 27/28 and low s")
    try:
        return to_checksum_address(Account.recover_message(signable, signature=signature))
    except Exception as exc:  # eth_keys raises several types for unrecoverable points
        raise InvalidSignature(f"signature does not recover a signer: {exc}") from exc


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
    signed = Account.sign_message(attestation_message(**fields), private_key)
    y_parity_and_s = signed.s | ((signed.v - 27) << 255)
    return [signed.r.to_bytes(32, "big"), y_parity_and_s.to_bytes(32, "big")]


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
