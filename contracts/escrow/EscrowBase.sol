// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IArbitratorV2} from "../interfaces/IArbitratorV2.sol";
import {IJobEscrow, JobStatus, JobTerms} from "../interfaces/IJobEscrow.sol";
import {IVerificationOracle} from "../interfaces/IVerificationOracle.sol";
import {IWorkerRegistry} from "../interfaces/IWorkerRegistry.sol";
import {RulingMath} from "../libraries/RulingMath.sol";

/// @title EscrowBase
/// @notice The escrow's wiring and data model: what is fixed at deployment, what governance sets,
/// and the one slot per job (and per dispute) that transactions change.
abstract contract EscrowBase is IJobEscrow, Ownable2Step, ReentrancyGuardTransient {
    /// @notice Everything fixed at deployment.
    struct Config {
        IERC20 token;
        IWorkerRegistry registry;
        address oracle;
        IArbitratorV2 arbitrator;
        address treasury;
        address governance;
        uint32 verificationWindow;
        uint64 maxOracleFee;
        uint96 disputeBondMin;
        uint16 disputeBondBps;
        uint16 bondPoolShareBps;
        uint16 wrongedShareBps;
        string metaEvidenceURI; // ERC-1497 meta-evidence: what disputes are about and how to rule
    }

    /// @dev What transactions changed; everything else about a job is in its terms (its id).
    struct JobState {
        JobStatus status;
        address worker; // set on acceptance
        // acceptBy (Open), resolveBy (Accepted), verifyBy (Submitted), challenge end (Approved,
        // Rejected), dispute timeout (Disputed)
        uint40 deadline;
    }

    /// @inheritdoc IJobEscrow
    uint16 public constant MAX_PROTOCOL_FEE_BPS = 1_000;
    /// @inheritdoc IJobEscrow
    uint32 public constant MAX_CHALLENGE_WINDOW = 30 days;
    /// @inheritdoc IJobEscrow
    uint40 public constant DISPUTE_TIMEOUT = 30 days;
    /// @inheritdoc IJobEscrow
    uint256 public constant META_EVIDENCE_ID = 0;

    /// @inheritdoc IJobEscrow
    IERC20 public immutable token;
    /// @inheritdoc IJobEscrow
    IWorkerRegistry public immutable registry;
    /// @inheritdoc IJobEscrow
    address public immutable oracle;
    /// @inheritdoc IJobEscrow
    uint32 public immutable verificationWindow;
    /// @inheritdoc IJobEscrow
    uint64 public immutable maxOracleFee;
    /// @inheritdoc IJobEscrow
    IArbitratorV2 public immutable arbitrator;
    /// @inheritdoc IJobEscrow
    uint96 public immutable disputeBondMin;
    /// @inheritdoc IJobEscrow
    uint16 public immutable disputeBondBps;
    /// @inheritdoc IJobEscrow
    uint16 public immutable bondPoolShareBps;
    /// @inheritdoc IJobEscrow
    uint16 public immutable wrongedShareBps;

    /// @inheritdoc IJobEscrow
    uint16 public protocolFeeBps;
    /// @inheritdoc IJobEscrow
    uint64 public oracleFee;
    /// @inheritdoc IJobEscrow
    bool public paused; // shares a slot with the fees read by every post
    /// @inheritdoc IJobEscrow
    address public treasury;

    // slither-disable-next-line uninitialized-state (written through `JobState storage job` pointers)
    mapping(bytes32 jobId => JobState) internal _states; // kept after settlement: an id is used once
    mapping(bytes32 jobId => bytes32) internal _evidenceHashes; // stored while Submitted only
    mapping(address account => uint256) internal _credits;
    // Fees in 64-bit lanes, four a slot: lane 0 the protocol's, lane i the oracle operator with mask
    // index i. A payout with a quorum among operators 1-3 writes one slot for all its fees.
    mapping(uint256 slot => uint256 lanes) internal _feeLanes;
    mapping(uint256 lane => uint256) internal _laneOverflow; // what a full lane could not take
    // slither-disable-next-line uninitialized-state (written through `Dispute storage record` pointers)
    mapping(bytes32 jobId => RulingMath.Dispute) internal _disputes; // one slot each
    mapping(uint256 disputeId => bytes32) internal _jobOfDispute;

    constructor(Config memory config) Ownable(config.governance) {
        if (address(config.token) == address(0)) revert BadWiring("token");
        if (address(config.arbitrator) == address(0)) revert BadWiring("arbitrator");
        if (config.treasury == address(0)) revert BadWiring("treasury");
        if (config.verificationWindow == 0) revert BadWiring("verificationWindow");
        if (config.bondPoolShareBps > 10_000 || config.wrongedShareBps > 10_000) revert BadWiring("shareBps");
        if (config.registry.escrow() != address(this)) revert BadWiring("registry.escrow");
        if (IVerificationOracle(config.oracle).escrow() != address(this)) revert BadWiring("oracle.escrow");
        // Stake present at an attestation must outlast the verdict's challenge window (the verdict
        // comes at most `verificationWindow` after it); a dispute then holds it until it settles.
        uint256 attestToWindowEnd = uint256(config.verificationWindow) + MAX_CHALLENGE_WINDOW;
        if (IVerificationOracle(config.oracle).unstakeDelay() <= attestToWindowEnd) revert BadWiring("oracle.unstakeDelay");
        token = config.token;
        registry = config.registry;
        oracle = config.oracle;
        arbitrator = config.arbitrator;
        treasury = config.treasury;
        verificationWindow = config.verificationWindow;
        maxOracleFee = config.maxOracleFee;
        disputeBondMin = config.disputeBondMin;
        disputeBondBps = config.disputeBondBps;
        bondPoolShareBps = config.bondPoolShareBps;
        wrongedShareBps = config.wrongedShareBps;
    }

    function _requireStatus(bytes32 jobId, JobStatus actual, JobStatus expected) internal pure {
        if (actual != expected) revert JobNotInStatus(jobId, actual, expected);
    }

    function _id(JobTerms calldata terms) internal pure returns (bytes32) {
        return keccak256(abi.encode(terms));
    }

    function _total(JobTerms calldata terms) internal pure returns (uint256) {
        return uint256(terms.reward) + terms.oracleFee + terms.protocolFee;
    }
}
