"""The operators' `Attestation` digest computed directly, for the signature exchange's hot path.

`eip712.attestation_message` builds the same bytes through eth_account's generic typed-data encoder,
which costs about a millisecond; a node checks two peers' signatures per job, so this module hashes
the fixed struct itself (the domain separator once per oracle) and signs and recovers the digest.
tests/protocol_core/test_attestation_digest.py pins it to the generic encoding.
"""

from collections.abc import Sequence
from functools import lru_cache

from eth_abi import encode
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from .eip712 import ATTESTATION_DOMAIN, SECP256K1_HALF_N, InvalidSignature

DOMAIN_TYPE = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
ATTESTATION_TYPE = keccak(
    b"Attestation(bytes32 jobId,bytes32 evidenceHash,bool approve,uint8 reason,uint64 setNonce)"
)


@lru_cache(maxsize=16)
def domain_separator(chain_id: int, oracle: str) -> bytes:
    """The oracle's EIP-712 domain separator."""
    name, version = ATTESTATION_DOMAIN
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                DOMAIN_TYPE,
                keccak(name.encode()),
                keccak(version.encode()),
                chain_id,
                to_checksum_address(oracle),
            ],
        )
    )


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
        encode(
            ["bytes32", "bytes32", "bytes32", "bool", "uint8", "uint64"],
            [ATTESTATION_TYPE, bytes(job_id), bytes(evidence_hash), approve, reason, set_nonce],
        )
    )
    return keccak(b"\x19\x01" + domain_separator(chain_id, oracle) + struct)


def sign_digest(private_key: bytes, digest: bytes) -> tuple[bytes, bytes]:
    """A compact EIP-2098 signature (r, yParity|s) of `digest` (low s, as eth_keys signs)."""
    signature = keys.PrivateKey(private_key).sign_msg_hash(digest)
    return signature.r.to_bytes(32, "big"), (signature.s | (signature.v << 255)).to_bytes(32, "big")


def recover_digest(digest: bytes, signature: Sequence[bytes]) -> str:
    """The checksummed signer of a compact signature of `digest`; low s only, as on chain."""
    if len(signature) != 2 or any(len(word) != 32 for word in signature):
        raise InvalidSignature("a compact signature is two 32-byte words [r, yParity|s]")
    r, vs = int.from_bytes(signature[0], "big"), int.from_bytes(signature[1], "big")
    v, s = vs >> 255, vs & ((1 << 255) - 1)
    if r == 0 or not 0 < s <= SECP256K1_HALF_N:
        raise InvalidSignature("signature must have a nonzero r and a low s")
    try:
        public = keys.Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest)
    except Exception as exc:  # eth_keys raises several types for unrecoverable points
        raise InvalidSignature(f"signature does not recover a signer: {exc}") from exc
    return to_checksum_address(public.to_canonical_address())
