// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRandomnessSource} from "./interfaces/IRandomnessSource.sol";

/// @title BlockhashRandomness
/// @notice Default randomness: a request commits to the hash of the next block, unknown when the
/// request is made. Trust: the producer of that block can withhold it (forfeiting its reward) to
/// get another hash, so it can bias a draw by discarding outcomes it dislikes, one block reward
/// per try. Good enough for small ticket disputes; use a VRF adapter where stakes are higher.
/// Only the last 256 block hashes are readable, so a request not used in time expires and the pool
/// asks again.
contract BlockhashRandomness is IRandomnessSource {
    /// @inheritdoc IRandomnessSource
    /// @dev The request id is the block whose hash answers it.
    function request() external view returns (uint256 requestId) {
        return block.number + 1;
    }

    /// @inheritdoc IRandomnessSource
    function result(uint256 requestId) external view returns (bool ready, bool expired, uint256 value) {
        if (block.number <= requestId) return (false, false, 0);
        bytes32 hash = blockhash(requestId);
        if (hash == bytes32(0)) return (false, true, 0);
        return (true, false, uint256(keccak256(abi.encode(hash, requestId))));
    }
}
