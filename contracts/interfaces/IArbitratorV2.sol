// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IArbitrableV2} from "./IArbitrableV2.sol";

/// @title Arbitrator, ERC-792 in the ERC-20 fee form of Kleros v2.
/// @notice Rulings are numbers from 0 to the dispute's number of choices; 0 means the arbitrator
/// refused to pick a side (for the escrow: split).
interface IArbitratorV2 {
    /// @notice Emitted when `arbitrable` opens dispute `disputeId`.
    event DisputeCreation(uint256 indexed disputeId, IArbitrableV2 indexed arbitrable);

    /// @notice Emitted when the final `ruling` of `disputeId` is recorded (before delivery).
    event Ruling(IArbitrableV2 indexed arbitrable, uint256 indexed disputeId, uint256 ruling);

    /// @notice Emitted when `arbitrable` appeals `disputeId`.
    event AppealDecision(uint256 indexed disputeId, IArbitrableV2 indexed arbitrable);

    /// @notice Opens a dispute between `choices` options, paid with `feeAmount` of `feeToken`
    /// pulled from the caller, which must be the arbitrable contract.
    function createDispute(uint256 choices, bytes calldata extraData, IERC20 feeToken, uint256 feeAmount)
        external
        returns (uint256 disputeId);

    /// @notice The fee `createDispute` needs, in `feeToken`.
    function arbitrationCost(bytes calldata extraData, IERC20 feeToken) external view returns (uint256 cost);

    /// @notice Appeals the current ruling of `disputeId`; pulls `appealCost(disputeId)` from the
    /// caller, which must be the dispute's arbitrable contract.
    function appeal(uint256 disputeId) external;

    /// @notice The fee `appeal` needs now.
    function appealCost(uint256 disputeId) external view returns (uint256 cost);

    /// @notice The current ruling; `tied` when the last tally was a tie or had no votes.
    function currentRuling(uint256 disputeId) external view returns (uint256 ruling, bool tied, bool overridden);
}
