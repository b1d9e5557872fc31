// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @title TestFiatTokenProxy
/// @notice Test-only: OpenZeppelin's ERC1967Proxy in front of a TestFiatToken, so that every call
/// pays the implementation-slot read and the delegatecall, as calls to Circle's USDC proxy do.
/// @dev Deployed with `abi.encodeCall(TestFiatToken.initialize, (owner))` as `data`.
contract TestFiatTokenProxy is ERC1967Proxy {
    constructor(address implementation, bytes memory data) ERC1967Proxy(implementation, data) {}
}
