// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IJobEscrow} from "../interfaces/IJobEscrow.sol";
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
    function collectProtocolFees() external nonReentrant returns (uint256 amount) {
        amount = protocolFeesAccrued;
        if (amount == 0) revert NothingToWithdraw(treasury);
        protocolFeesAccrued = 0;
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
    function quote(uint96 reward) public view returns (uint64, uint64) {
        return (oracleFee, SafeCast.toUint64((uint256(reward) * protocolFeeBps) / 10_000));
    }

    /// @dev The oracle fee goes to the operators who attested the verdict; the first takes the dust.
    function _shareOracleFee(uint64 fee, address[] calldata attesters) internal {
        uint256 n = attesters.length;
        if (n == 0) {
            protocolFeesAccrued += fee;
            return;
        }
        uint256 share = fee / n;
        _credit(attesters[0], share + fee % n);
        for (uint256 i = 1; i < n; ++i) {
            _credit(attesters[i], share);
        }
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
