// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IArbitratorV2} from "./IArbitratorV2.sol";

/// @title Arbitrable contract, ERC-792 in the shape of Kleros v2, with ERC-1497 evidence events.
interface IArbitrableV2 {
    /// @notice ERC-1497: what a dispute group is about; `evidence` is a URI to the meta-evidence JSON.
    event MetaEvidence(uint256 indexed metaEvidenceId, string evidence);

    /// @notice ERC-1497: links `disputeId` at `arbitrator` to its meta-evidence and evidence group.
    event Dispute(
        IArbitratorV2 indexed arbitrator, uint256 indexed disputeId, uint256 metaEvidenceId, uint256 evidenceGroupId
    );

    /// @notice ERC-1497: `party` submits evidence (a URI) to the group.
    event Evidence(
        IArbitratorV2 indexed arbitrator, uint256 indexed evidenceGroupId, address indexed party, string evidence
    );

    /// @notice Emitted when the arbitrable receives the final `ruling` of `disputeId`.
    event Ruling(IArbitratorV2 indexed arbitrator, uint256 indexed disputeId, uint256 ruling);

    /// @notice Delivers the final ruling; only the arbitrator may call.
    function rule(uint256 disputeId, uint256 ruling) external;
}
