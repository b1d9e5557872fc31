// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EscrowBase} from "./escrow/EscrowBase.sol";
import {EscrowArbitrable} from "./escrow/EscrowArbitrable.sol";
import {EscrowRelay} from "./escrow/EscrowRelay.sol";

/// @title JobEscrow
/// @notice Holds the money of escalated tickets; see {IJobEscrow}. Built in layers, each one idea:
/// {EscrowBase} (wiring and data model), {EscrowAccounts} (money out and fees), {JobLifecycle}
/// (post to settle), {EscrowArbitrable} (disputes and rulings, arithmetic in {RulingMath}) and
/// {EscrowRelay} (what a worker signs and anyone sends).
contract JobEscrow is EscrowArbitrable, EscrowRelay {
    constructor(Config memory config) EscrowBase(config) EscrowArbitrable(config.metaEvidenceURI) {}
}
