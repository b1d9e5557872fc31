// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestReentrantToken
/// @notice Test-only hostile token: every transfer first calls `target` with `payload` (for example
/// back into the escrow) and records whether that call went through.
contract TestReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    uint256 public callbacksAttempted;
    uint256 public callbacksSucceeded;

    /// @notice Emitted after each callback with its outcome.
    event Callback(bool success, bytes returned);

    constructor() ERC20("Reentrant (test)", "REENT") {}

    /// @notice Mints `amount` to `to`; anyone may call (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Makes every later transfer call `target_` with `payload_`; a zero target turns it off.
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function _update(address from, address to, uint256 value) internal override {
        address callee = target;
        if (callee != address(0) && from != address(0)) {
            ++callbacksAttempted;
            (bool ok, bytes memory returned) = callee.call(payload);
            if (ok) ++callbacksSucceeded;
            emit Callback(ok, returned);
        }
        super._update(from, to, value);
    }
}
