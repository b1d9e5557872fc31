// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IJobEscrow} from "../interfaces/IJobEscrow.sol";
import {IVerificationOracle} from "../interfaces/IVerificationOracle.sol";
import {EscrowBase} from "./EscrowBase.sol";

/// @title EscrowAccounts
/// @notice The escrow's money out and its fees: payouts pushed or credited, withdrawals of credits,
/// the protocol fees for the treasury, the oracle fee for the attesters, and the fees governance sets.
abstract contract EscrowAccounts is EscrowBase {
    using SafeERC20 for IERC20;

    /// @inheritdoc IJobEscrow
    function withdraw(address to) external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    /// @inheritdoc IJobEscrow
    function withdrawOperatorFees(address to) external nonReentrant returns (uint256 amount) {
        uint8 index = IVerificationOracle(oracle).operatorOf(msg.sender).index;
        amount = index == 0 ? 0 : _takeLane(index);
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        emit Withdrawn(msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    /// @inheritdoc IJobEscrow
    function collectProtocolFees() external nonReentrant returns (uint256 amount) {
        amount = _takeLane(0);
        if (amount == 0) revert NothingToWithdraw(treasury);
        address to = treasury;
        emit ProtocolFeesCollected(to, amount);
        _push(to, amount);
    }

    /// @inheritdoc IJobEscrow
    function setFees(uint16 protocolFeeBps_, uint64 oracleFee_) external onlyOwner {
        if (protocolFeeBps_ > MAX_PROTOCOL_FEE_BPS) revert FeeAboveCap(protocolFeeBps_, MAX_PROTOCOL_FEE_BPS);
        if (oracleFee_ > maxOracleFee) revert FeeAboveCap(oracleFee_, maxOracleFee);
        protocolFeeBps = protocolFeeBps_;
        oracleFee = oracleFee_;
        emit FeesChanged(protocolFeeBps_, oracleFee_);
    }

    /// @inheritdoc IJobEscrow
    function setTreasury(address treasury_) external onlyOwner {
        if (treasury_ == address(0)) revert BadWiring("treasury");
        treasury = treasury_;
        emit TreasuryChanged(treasury_);
    }

    /// @inheritdoc IJobEscrow
    function setPaused(bool paused_) external onlyOwner {
        paused = paused_;
        emit PausedChanged(paused_);
    }

    /// @inheritdoc IJobEscrow
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IJobEscrow
    function operatorFeesOf(address operator) external view returns (uint256) {
        uint8 index = IVerificationOracle(oracle).operatorOf(operator).index;
        return index == 0 ? 0 : _lane(index);
    }

    /// @inheritdoc IJobEscrow
    function protocolFeesAccrued() external view returns (uint96) {
        return SafeCast.toUint96(_lane(0));
    }

    /// @inheritdoc IJobEscrow
    function quote(uint96 reward) public view returns (uint64, uint64) {
        return (oracleFee, SafeCast.toUint64((uint256(reward) * protocolFeeBps) / 10_000));
    }

    /// @dev The oracle fee goes to the operators in the `attesters` mask in equal shares; the lowest
    /// index takes the dust. Each operator's share lands in its lane (index = bit + 1).
    function _shareOracleFee(bytes32 jobId, uint64 fee, uint128 attesters) internal {
        if (attesters == 0) {
            _creditLane(0, fee);
            return;
        }
        uint256 n = 0;
        for (uint128 mask = attesters; mask != 0; mask &= mask - 1) ++n;
        uint256 share = fee / n;
        uint256 dust = fee % n;
        emit OracleFeeShared(jobId, attesters, fee);
        for (uint256 index = 1; attesters != 0; ++index) {
            if (attesters & 1 != 0) {
                _creditLane(index, share + dust);
                dust = 0;
            }
            attesters >>= 1;
        }
    }

    /// @dev Adds `amount` to fee lane `lane`; a lane that would pass 64 bits spills into its overflow,
    /// so crediting never reverts (no token has that much in one escrow, but nothing relies on it).
    function _creditLane(uint256 lane, uint256 amount) internal {
        if (amount == 0) return;
        uint256 shift = (lane % 4) * 64;
        uint256 lanes = _feeLanes[lane / 4];
        if (((lanes >> shift) & type(uint64).max) + amount > type(uint64).max) {
            _laneOverflow[lane] += amount;
        } else {
            _feeLanes[lane / 4] = lanes + (amount << shift);
        }
    }

    /// @dev Empties fee lane `lane` and its overflow; returns what they held.
    function _takeLane(uint256 lane) private returns (uint256 amount) {
        amount = _lane(lane);
        _feeLanes[lane / 4] &= ~(uint256(type(uint64).max) << ((lane % 4) * 64));
        if (_laneOverflow[lane] != 0) delete _laneOverflow[lane];
    }

    function _lane(uint256 lane) private view returns (uint256) {
        return ((_feeLanes[lane / 4] >> ((lane % 4) * 64)) & type(uint64).max) + _laneOverflow[lane];
    }

    /// @dev Pays `to` now, or credits it when the token refuses (blacklisted or paused), so that
    /// settlement never reverts because of its recipient.
    function _push(address to, uint256 amount) internal {
        if (amount == 0) return;
        if (!token.trySafeTransfer(to, amount)) _credit(to, amount);
    }

    function _credit(address account, uint256 amount) internal {
        if (amount == 0) return;
        _credits[account] += amount;
        emit Credited(account, amount);
    }
}
