// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title TestUSDC
/// @notice Test-only stand-in for native USDC: 6 decimals, EIP-2612 permit, an open faucet and a
/// blacklist that makes transfers to or from a listed address revert, as Circle's does.
contract TestUSDC is ERC20, ERC20Permit {
    mapping(address account => bool) public isBlacklisted;
    /// @dev Checks are skipped while nobody is listed, so gas figures match a plain ERC-20.
    uint256 public blacklistedCount;

    /// @notice Emitted when `account` is put on or taken off the blacklist.
    event BlacklistChanged(address indexed account, bool listed);

    /// @notice Thrown when a transfer touches a blacklisted `account`.
    error Blacklisted(address account);

    constructor() ERC20("USD Coin (test)", "USDC") ERC20Permit("USD Coin (test)") {}

    /// @notice Mints `amount` to `to`; anyone may call (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Puts `account` on or takes it off the blacklist; anyone may call (test token).
    function setBlacklisted(address account, bool listed) external {
        if (isBlacklisted[account] == listed) return;
        isBlacklisted[account] = listed;
        if (listed) ++blacklistedCount;
        else --blacklistedCount;
        emit BlacklistChanged(account, listed);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blacklistedCount != 0) {
            if (isBlacklisted[from]) revert Blacklisted(from);
            if (isBlacklisted[to]) revert Blacklisted(to);
        }
        super._update(from, to, value);
    }
}
