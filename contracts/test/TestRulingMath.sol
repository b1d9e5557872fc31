// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {RulingOption} from "../interfaces/IJobEscrow.sol";
import {RulingMath} from "../libraries/RulingMath.sol";

/// @title TestRulingMath
/// @notice Test-only: exposes {RulingMath} so that its arithmetic is property-tested on its own
/// (tests/test_ruling_math.py), with the escrow's types for the amounts. Never deployed on a live
/// network.
contract TestRulingMath {
    /// @notice How a dispute of a job with these amounts settles: {RulingMath-shares} and the verdict
    /// on the disputer and the oracle.
    function settle(
        RulingMath.Dispute calldata d,
        uint96 reward,
        uint64 oracleFee,
        uint64 protocolFee,
        uint16 bondPoolShareBps
    )
        external
        pure
        returns (
            uint256 toWorker,
            uint256 toAgent,
            uint256 toTreasury,
            uint256 toPool,
            bool disputerRight,
            bool disputerWrong,
            bool overturned
        )
    {
        (toWorker, toAgent, toTreasury, toPool) =
            RulingMath.shares(d, reward, oracleFee, protocolFee, bondPoolShareBps);
        return (
            toWorker,
            toAgent,
            toTreasury,
            toPool,
            RulingMath.disputerRight(d),
            RulingMath.disputerWrong(d),
            RulingMath.overturned(d)
        );
    }

    /// @notice {RulingMath-bondShares}.
    function bondShares(RulingMath.Dispute calldata d, uint16 bondPoolShareBps)
        external
        pure
        returns (uint256 toDisputer, uint256 toOther, uint256 toPool)
    {
        return RulingMath.bondShares(d, bondPoolShareBps);
    }

    /// @notice {RulingMath-slashShares}, with the escrow's types.
    function slashShares(uint256 slashed, uint64 fee, uint16 wrongedShareBps)
        external
        pure
        returns (uint256 toDisputer, uint256 toProtocol)
    {
        return RulingMath.slashShares(slashed, fee, wrongedShareBps);
    }

    /// @notice {RulingMath-bond}, with the escrow's types.
    function bond(uint96 reward, uint16 bps, uint96 minimum) external pure returns (uint256) {
        return RulingMath.bond(reward, bps, minimum);
    }

    /// @notice {RulingMath-mayBorrow}, with the escrow's types.
    function mayBorrow(uint96 reward, uint256 fee, uint256 bond_) external pure returns (bool) {
        return RulingMath.mayBorrow(reward, fee, bond_);
    }

    /// @notice {RulingMath-option}.
    function option(uint256 ruling) external pure returns (RulingOption) {
        return RulingMath.option(ruling);
    }
}
