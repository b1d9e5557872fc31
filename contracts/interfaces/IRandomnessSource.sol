// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Source of random numbers for drawing arbitrators.
/// @notice Requests are answered later; an adapter for Chainlink VRF or another beacon implements
/// the same two functions, so the pool never changes.
interface IRandomnessSource {
    /// @notice Asks for a random number; `result(requestId)` answers it later.
    function request() external returns (uint256 requestId);

    /// @notice The answer to `requestId`: `ready` once known; `expired` when it can never be
    /// known and must be requested again.
    function result(uint256 requestId) external view returns (bool ready, bool expired, uint256 value);
}
