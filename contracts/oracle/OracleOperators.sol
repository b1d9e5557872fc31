// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IVerificationOracle, Operator} from "../interfaces/IVerificationOracle.sol";

/// @title OracleOperators
/// @notice The oracle's operator set and its money: who may attest (set, quorum, stake), unstaking,
/// and the liability of stake that attested a verdict (held while disputed, slashed if overturned).
abstract contract OracleOperators is IVerificationOracle, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Operators ever added; each keeps its mask bit for life.
    uint256 public constant MAX_OPERATORS = 128;
    /// @notice Longest endpoint an operator may publish, in bytes.
    uint256 public constant MAX_ENDPOINT_BYTES = 256;

    /// @notice The staking token (the escrow's settlement token).
    IERC20 public immutable token;
    /// @inheritdoc IVerificationOracle
    address public immutable escrow;
    /// @inheritdoc IVerificationOracle
    uint256 public immutable minStake;
    /// @inheritdoc IVerificationOracle
    uint40 public immutable unstakeDelay;
    /// @inheritdoc IVerificationOracle
    uint96 public immutable slashPerOperator;

    /// @inheritdoc IVerificationOracle
    uint8 public quorum;
    /// @inheritdoc IVerificationOracle
    uint64 public setNonce;
    uint8 private _indicesUsed;

    // slither-disable-next-line uninitialized-state (written through `Operator storage op` pointers)
    mapping(address operator => Operator) private _operators;
    mapping(uint8 index => address) internal _operatorAt;
    mapping(bytes32 jobId => uint128) internal _verdictAttesters; // jobs with a challenge window only
    // Held by the escrow from a dispute of a verdict the operator attested until the dispute settles;
    // touched on the dispute path only, so attesting and paying never pay for it.
    mapping(address operator => uint256) private _disputedVerdicts;
    mapping(address operator => string) private _endpoints; // where its node is reached; off the money path

    constructor(
        IERC20 token_,
        address escrow_,
        address governance,
        uint8 quorum_,
        uint256 minStake_,
        uint40 delay,
        uint96 slashPerOperator_
    ) Ownable(governance) {
        if (address(token_) == address(0)) revert BadWiring("token");
        if (escrow_ == address(0)) revert BadWiring("escrow");
        if (quorum_ == 0) revert InvalidQuorum(quorum_);
        token = token_;
        escrow = escrow_;
        minStake = minStake_;
        unstakeDelay = delay;
        slashPerOperator = slashPerOperator_;
        quorum = quorum_;
        emit QuorumChanged(quorum_, 0);
    }

    /// @inheritdoc IVerificationOracle
    function addOperator(address operator) external onlyOwner {
        Operator storage op = _operators[operator];
        if (op.active) revert OperatorStateUnchanged(operator, true);
        uint8 index = op.index;
        if (index == 0) {
            if (_indicesUsed == MAX_OPERATORS) revert OperatorSetFull(MAX_OPERATORS);
            index = ++_indicesUsed;
            op.index = index;
            _operatorAt[index] = operator;
        }
        op.active = true;
        emit OperatorAdded(operator, index, ++setNonce);
    }

    /// @inheritdoc IVerificationOracle
    function removeOperator(address operator) external onlyOwner {
        Operator storage op = _operators[operator];
        if (!op.active) revert OperatorStateUnchanged(operator, false);
        op.active = false;
        emit OperatorRemoved(operator, ++setNonce);
    }

    /// @inheritdoc IVerificationOracle
    function setQuorum(uint8 quorum_) external onlyOwner {
        if (quorum_ == 0) revert InvalidQuorum(quorum_);
        quorum = quorum_;
        emit QuorumChanged(quorum_, ++setNonce);
    }

    /// @inheritdoc IVerificationOracle
    function setEndpoint(string calldata endpoint) external {
        if (!_operators[msg.sender].active) revert NotActiveOperator(msg.sender);
        uint256 length = bytes(endpoint).length;
        if (length > MAX_ENDPOINT_BYTES) revert EndpointTooLong(length, MAX_ENDPOINT_BYTES);
        _endpoints[msg.sender] = endpoint;
        emit EndpointSet(msg.sender, endpoint);
    }

    /// @inheritdoc IVerificationOracle
    function stake(uint256 amount) external nonReentrant {
        Operator storage op = _operators[msg.sender];
        if (op.index == 0) revert NotActiveOperator(msg.sender);
        uint96 staked = op.stake + SafeCast.toUint96(amount);
        op.stake = staked;
        emit Staked(msg.sender, amount, staked);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IVerificationOracle
    function requestUnstake(uint256 amount) external {
        Operator storage op = _operators[msg.sender];
        if (amount == 0 || amount > op.stake) revert StakeLocked(msg.sender, amount, op.stake, 0);
        if (op.unstaking != 0) revert UnstakePending(msg.sender, op.unstaking, op.unstakeAt);
        uint40 unstakeAt = uint40(block.timestamp) + unstakeDelay;
        op.stake -= uint96(amount);
        op.unstaking = uint96(amount);
        op.unstakeAt = unstakeAt;
        emit UnstakeRequested(msg.sender, amount, unstakeAt);
    }

    /// @inheritdoc IVerificationOracle
    function withdrawStake() external nonReentrant returns (uint256 amount) {
        Operator storage op = _operators[msg.sender];
        amount = op.unstaking;
        if (amount == 0 || block.timestamp < op.unstakeAt) revert StakeLocked(msg.sender, amount, 0, op.unstakeAt);
        uint256 disputed = _disputedVerdicts[msg.sender];
        if (disputed != 0) revert StakeHeldByDisputes(msg.sender, disputed);
        op.unstaking = 0;
        emit StakeWithdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IVerificationOracle
    function holdVerdict(bytes32 jobId) external {
        if (msg.sender != escrow) revert CallerNotEscrow(msg.sender);
        uint128 attesters = _verdictAttesters[jobId];
        uint128 mask = attesters;
        for (uint8 index = 1; mask != 0; ++index) {
            if (mask & 1 != 0) ++_disputedVerdicts[_operatorAt[index]];
            mask >>= 1;
        }
        emit VerdictHeld(jobId, attesters);
    }

    /// @inheritdoc IVerificationOracle
    function releaseVerdict(bytes32 jobId) external {
        if (msg.sender != escrow) revert CallerNotEscrow(msg.sender);
        _release(jobId, false);
    }

    /// @inheritdoc IVerificationOracle
    function slashVerdict(bytes32 jobId) external nonReentrant returns (uint256 slashed) {
        if (msg.sender != escrow) revert CallerNotEscrow(msg.sender);
        slashed = _release(jobId, true);
        if (slashed != 0) token.safeTransfer(escrow, slashed);
    }

    /// @inheritdoc IVerificationOracle
    function verdictAttesters(bytes32 jobId) external view returns (uint128) {
        return _verdictAttesters[jobId];
    }

    /// @inheritdoc IVerificationOracle
    function disputedVerdicts(address operator) external view returns (uint256) {
        return _disputedVerdicts[operator];
    }

    /// @inheritdoc IVerificationOracle
    function endpointOf(address operator) external view returns (string memory) {
        return _endpoints[operator];
    }

    /// @inheritdoc IVerificationOracle
    function operatorOf(address operator) external view returns (Operator memory) {
        return _operators[operator];
    }

    /// @dev Ends the hold `holdVerdict` put on the verdict's attesters (the escrow calls it for every
    /// disputed verdict, once, when the dispute settles) and slashes them when `slash`.
    function _release(bytes32 jobId, bool slash) internal returns (uint256 slashed) {
        uint128 attesters = _verdictAttesters[jobId];
        delete _verdictAttesters[jobId];
        uint128 mask = attesters;
        for (uint8 index = 1; mask != 0; ++index) {
            if (mask & 1 != 0) {
                address operator = _operatorAt[index];
                --_disputedVerdicts[operator];
                if (slash) slashed += _slash(jobId, operator);
            }
            mask >>= 1;
        }
        emit VerdictReleased(jobId, attesters, slash);
    }

    /// @dev Takes from the stake first, then from stake being unstaked, which stays slashable.
    function _slash(bytes32 jobId, address operator) internal returns (uint256 amount) {
        Operator storage op = _operators[operator];
        uint96 want = slashPerOperator;
        uint96 fromStake = op.stake < want ? op.stake : want;
        uint96 fromUnstaking = op.unstaking < want - fromStake ? op.unstaking : want - fromStake;
        op.stake -= fromStake;
        op.unstaking -= fromUnstaking;
        amount = uint256(fromStake) + fromUnstaking;
        emit Slashed(jobId, operator, amount);
    }

    function _operatorBit(address account) internal view returns (uint128) {
        Operator memory op = _operators[account];
        if (!op.active || op.stake < minStake) revert NotActiveOperator(account);
        return uint128(1) << (op.index - 1);
    }

    /// @dev The operators in `mask`, by index.
    function _members(uint128 mask) internal view returns (address[] memory members) {
        members = new address[](_popcount(mask));
        uint256 n = 0;
        for (uint8 index = 1; mask != 0; ++index) {
            if (mask & 1 != 0) members[n++] = _operatorAt[index];
            mask >>= 1;
        }
    }

    function _popcount(uint128 mask) internal pure returns (uint256 count) {
        while (mask != 0) {
            mask &= mask - 1;
            ++count;
        }
    }
}
