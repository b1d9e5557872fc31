// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IRandomnessSource} from "./interfaces/IRandomnessSource.sol";
import {PoolRounds} from "./arbitration/PoolRounds.sol";
import {PoolStaking} from "./arbitration/PoolStaking.sol";
import {PoolVotes} from "./arbitration/PoolVotes.sol";

/// @title ArbitrationPool
/// @notice Bonded arbitrators decide disputes of support tickets; see {IArbitrationPool}. Built in
/// layers, each one idea: {PoolStaking} (stakes and sortition), {PoolRounds} (disputes, appeals,
/// draws, phases) and {PoolVotes} (hidden votes, tally, final ruling).
contract ArbitrationPool is PoolVotes {
    constructor(
        IERC20 token_,
        IRandomnessSource randomness_,
        address governance,
        uint96 minStake_,
        uint96 maxStake_,
        uint96 lockPerDraw_,
        uint40 unstakeDelay_,
        uint8 maxRounds_,
        Parameters memory parameters_,
        address reserveArbitrable_
    )
        PoolStaking(token_, governance, minStake_, maxStake_, lockPerDraw_, unstakeDelay_)
        PoolRounds(randomness_, maxRounds_, parameters_, reserveArbitrable_)
    {}
}
