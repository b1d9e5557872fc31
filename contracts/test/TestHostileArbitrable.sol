// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IArbitratorV2} from "../interfaces/IArbitratorV2.sol";

/// @title TestHostileArbitrable
/// @notice Test-only arbitrable whose `rule` reverts, burns all its gas, or accepts, as set.
contract TestHostileArbitrable {
    using SafeERC20 for IERC20;

    enum Mode {
        Accept,
        Revert,
        BurnGas
    }

    Mode public mode;
    uint256 public rulings;

    /// @notice Thrown by `rule` in Revert mode.
    error Refused(uint256 disputeId);

    /// @notice Sets how the next `rule` behaves.
    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @notice Opens a dispute at `arbitrator`, paying `fee` of `token` held by this contract.
    function open(IArbitratorV2 arbitrator, IERC20 token, uint256 fee) external returns (uint256) {
        token.forceApprove(address(arbitrator), fee);
        return arbitrator.createDispute(2, "", token, fee);
    }

    /// @notice Appeals `disputeId`, paying `cost` of `token` held by this contract.
    function appeal(IArbitratorV2 arbitrator, IERC20 token, uint256 disputeId, uint256 cost) external {
        token.forceApprove(address(arbitrator), cost);
        arbitrator.appeal(disputeId);
    }

    /// @notice The ruling callback.
    function rule(uint256 disputeId, uint256) external {
        if (mode == Mode.Revert) revert Refused(disputeId);
        if (mode == Mode.BurnGas) {
            while (true) {
                ++rulings;
            }
        }
        ++rulings;
    }
}
