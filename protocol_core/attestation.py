"""Oracle attestations signed off chain (EIP-712), for `VerificationOracle.attestWithSignatures`."""

from eth_account import Account
from eth_account.messages import encode_typed_data

DOMAIN_NAME, DOMAIN_VERSION = "EscalationVerificationOracle", "1"
ATTESTATION_TYPES = {
    "Attestation": [
        {"name": "jobId", "type": "bytes32"},
        {"name": "evidenceHash", "type": "bytes32"},
        {"name": "approve", "type": "bool"},
        {"name": "reason", "type": "uint8"},
        {"name": "setNonce", "type": "uint64"},
    ]
}


def sign_attestation(
    private_key: str | bytes,
    *,
    chain_id: int,
    oracle: str,
    job_id: bytes,
    evidence_hash: bytes,
    approve: bool,
    reason: int,
    set_nonce: int,
) -> list[bytes]:
    """An operator's attestation in the compact EIP-2098 form the oracle takes: [r, yParity|s]."""
    domain = {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": oracle,
    }
    message = {
        "jobId": bytes(job_id),
        "evidenceHash": bytes(evidence_hash),
        "approve": approve,
        "reason": reason,
        "setNonce": set_nonce,
    }
    signable = encode_typed_data(domain_data=domain, message_types=ATTESTATION_TYPES, message_data=message)
    signed = Account.sign_message(signable, private_key)
    y_parity_and_s = signed.s | ((signed.v - 27) << 255)
    return [signed.r.to_bytes(32, "big"), y_parity_and_s.to_bytes(32, "big")]
