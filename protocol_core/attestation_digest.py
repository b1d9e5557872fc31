"""The operators' `Attestation` digest computed directly, for the signature exchange's hot path.

`eip712.attestation_message` builds the same bytes through eth_account's generic typed-data encoder,
which costs about a millisecond; a node checks two peers' signatures per job, so this module hashes
the fixed struct itself (protocol_core.abi_words; the domain separator once per oracle) and signs and
recovers the digest.
tests/protocol_core/test_attestation_digest.py pins it to the generic encoding.
"""

from collections.abc import Sequence

from eth_utils import keccak

from .abi_words import bool_word, bytes32_word, checksum, recover_hash, sign_hash, uint_word
from .abi_words import domain_separator as eip712_domain
from .eip712 import ATTESTATION_DOMAIN, SECP256K1_HALF_N, InvalidSignature

ATTESTATION_TYPE = keccak(
    b"Attestation(bytes32 jobId,bytes32 evidenceHash,bool approve,uint8 reason,uint64 setNonce)"
)


def domain_separator(chain_id: int, oracle: str) -> bytes:
    """The oracle's EIP-712 domain separator."""
    return eip712_domain(*ATTESTATION_DOMAIN, chain_id, checksum(oracle))


def attestation_digest(
    *,
    chain_id: int,
    oracle: str,
    job_id: bytes,
    evidence_hash: bytes,
    approve: bool,
    reason: int,
    set_nonce: int,
) -> bytes:
    """What `VerificationOracle.attestationDigest` returns: the 32 bytes an operator signs."""
    struct = keccak(
        ATTESTATION_TYPE
        + bytes32_word(bytes(job_id))
        + bytes32_word(bytes(evidence_hash))
        + bool_word(approve)
        + uint_word(reason, 8)
        + uint_word(set_nonce, 64)
    )
    return keccak(b"\x19\x01" + domain_separator(chain_id, oracle) + struct)


def sign_digest(private_key: bytes, digest: bytes) -> tuple[bytes, bytes]:
    """A compact EIP-2098 signature (r, yParity|s) of `digest` (low s)."""
    v, r, s = sign_hash(private_key, digest)
    return r.to_bytes(32, "big"), (s | ((v - 27) << 255)).to_bytes(32, "big")


def recover_digest(digest: bytes, signature: Sequence[bytes]) -> str:
    """The checksummed signer of a compact signature of `digest`; low s only, as on chain."""
    if len(signature) != 2 or any(len(word) != 32 for word in signature):
        raise InvalidSignature("a compact signature is two 32-byte words [r, yParity|s]")
    r, vs = int.from_bytes(signature[0], "big"), int.from_bytes(signature[1], "big")
    v, s = vs >> 255, vs & ((1 << 255) - 1)
    if r == 0 or not 0 < s <= SECP256K1_HALF_N:
        raise InvalidSignature("signature must have a nonzero r and a low s")
    try:
        return recover_hash(digest, 27 + v, r, s)
    except Exception as exc:  # coincurve raises several types for unrecoverable points
        raise InvalidSignature(f"signature does not recover a signer: {exc}") from exc
