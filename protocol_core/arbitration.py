"""Arbitration votes: the commitment an arbitrator makes, as the pool checks it."""

from eth_abi import encode
from eth_utils import keccak


def commitment(dispute_id: int, round_index: int, arbitrator: str, choice: int, salt: bytes) -> bytes:
    """keccak256(abi.encode(disputeId, round, arbitrator, choice, salt)), as the pool checks it."""
    return keccak(
        encode(
            ["uint256", "uint256", "address", "uint256", "bytes32"],
            [dispute_id, round_index, arbitrator, choice, salt],
        )
    )
