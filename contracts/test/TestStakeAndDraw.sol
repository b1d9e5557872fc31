// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IArbitrationPool} from "../interfaces/IArbitrationPool.sol";

/// @title TestStakeAndDraw
/// @notice Test-only attacker of issue 9, item 1: a fresh arbitrator account that stakes an amount
/// searched off chain and draws the panel of a round whose randomness is already known, in one
/// transaction. It holds the tokens it stakes.
contract TestStakeAndDraw {
    using SafeERC20 for IERC20;

    /// @notice Stakes `amount` in `pool`, draws round `round` of `disputeId`, and returns the seats
    /// this contract won. Dry-run it (eth_call) over many amounts to find one that seats it.
    function attack(IArbitrationPool pool, uint256 disputeId, uint256 round, uint256 amount)
        external
        returns (uint256 seats)
    {
        pool.token().forceApprove(address(pool), amount);
        pool.stake(amount);
        pool.draw(disputeId);
        address[] memory panel = pool.roundOf(disputeId, round).panel;
        for (uint256 i = 0; i < panel.length; ++i) {
            if (panel[i] == address(this)) ++seats;
        }
    }
}
