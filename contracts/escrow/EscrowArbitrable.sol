// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IArbitrableV2} from "../interfaces/IArbitrableV2.sol";
import {IArbitrationPool} from "../interfaces/IArbitrationPool.sol";
import {IJobEscrow, JobStatus, JobTerms, RefundReason, RulingOption} from "../interfaces/IJobEscrow.sol";
import {IVerificationOracle} from "../interfaces/IVerificationOracle.sol";
import {WorkOutcome} from "../interfaces/IWorkerRegistry.sol";
import {RulingMath} from "../libraries/RulingMath.sol";
import {JobLifecycle} from "./JobLifecycle.sol";

/// @title EscrowArbitrable
/// @notice The escrow as an ERC-792 arbitrable: disputes of a verdict, appeals, ERC-1497 evidence,
/// the arbitrator's ruling, and settling a ruled job (its arithmetic is {RulingMath}).
abstract contract EscrowArbitrable is JobLifecycle {
    using SafeERC20 for IERC20;

    constructor(string memory metaEvidenceURI) {
        emit MetaEvidence(META_EVIDENCE_ID, metaEvidenceURI);
    }

    /// @inheritdoc IJobEscrow
    function dispute(JobTerms calldata terms, bool fromReward) external nonReentrant returns (uint256 disputeId) {
        bytes32 jobId = _id(terms);
        JobState storage job = _states[jobId];
        JobStatus status = job.status;
        address worker = job.worker;
        bool byWorker = msg.sender == worker;
        if (!_mayDispute(job, terms, status, byWorker) || (fromReward && !byWorker)) {
            revert NotDisputable(jobId, status, msg.sender);
        }
        (uint256 fee, uint256 bond) = disputeCost(terms.reward);
        if (fromReward && !RulingMath.mayBorrow(terms.reward, fee, bond)) {
            revert BondExceedsReward(jobId, fee + bond, terms.reward);
        }
        job.status = JobStatus.Disputed;
        job.deadline = uint40(block.timestamp) + DISPUTE_TIMEOUT;
        RulingMath.Dispute storage record = _disputes[jobId];
        record.fee = SafeCast.toUint64(fee);
        record.bond = SafeCast.toUint64(bond);
        record.disputed = status;
        record.byWorker = byWorker;
        record.fromReward = fromReward;
        // A verdict's attesters stay slashable until this dispute settles (`_settleDispute` releases them).
        if (status == JobStatus.Submitted) registry.finishJob(worker, WorkOutcome.Released);
        else IVerificationOracle(oracle).holdVerdict(jobId);
        if (!fromReward) token.safeTransferFrom(msg.sender, address(this), fee + bond);
        token.forceApprove(address(arbitrator), fee);
        // The arbitrator is immutable and trusted, and this function is nonReentrant; its id is only
        // known after the call.
        // slither-disable-next-line reentrancy-no-eth,reentrancy-benign
        disputeId = arbitrator.createDispute(2, "", token, fee);
        record.disputeId = SafeCast.toUint64(disputeId);
        _jobOfDispute[disputeId] = jobId;
        emit JobDisputed(jobId, msg.sender, disputeId, fee, bond, fromReward);
        emit Dispute(arbitrator, disputeId, META_EVIDENCE_ID, uint256(jobId));
    }

    /// @inheritdoc IJobEscrow
    function appeal(JobTerms calldata terms) external nonReentrant {
        bytes32 jobId = _id(terms);
        JobState storage job = _states[jobId];
        _requireStatus(jobId, job.status, JobStatus.Disputed);
        uint256 disputeId = _disputes[jobId].disputeId;
        // Only the ruling decides who lost; a tie already rules 0 (split).
        // slither-disable-next-line unused-return
        (uint256 ruling,,) = arbitrator.currentRuling(disputeId);
        bool isAgent = msg.sender == terms.agent;
        bool isWorker = msg.sender == job.worker;
        bool losing = ruling == uint256(RulingOption.PayWorker)
            ? isAgent
            : ruling == uint256(RulingOption.RefundAgent) ? isWorker : isAgent || isWorker;
        if (!losing) revert NotLosingSide(jobId, msg.sender, ruling);
        uint256 cost = arbitrator.appealCost(disputeId);
        emit JobAppealed(jobId, msg.sender, cost);
        token.safeTransferFrom(msg.sender, address(this), cost);
        token.forceApprove(address(arbitrator), cost);
        arbitrator.appeal(disputeId);
    }

    /// @inheritdoc IJobEscrow
    function submitDisputeEvidence(bytes32 jobId, string calldata evidenceURI) external {
        JobState storage job = _states[jobId];
        _requireStatus(jobId, job.status, JobStatus.Disputed);
        emit Evidence(arbitrator, uint256(jobId), msg.sender, evidenceURI);
    }

    /// @inheritdoc IArbitrableV2
    function rule(uint256 disputeId, uint256 ruling) external {
        bytes32 jobId = _jobOfDispute[disputeId];
        if (msg.sender != address(arbitrator) || jobId == bytes32(0)) revert CallerNotArbitrator(msg.sender);
        RulingMath.Dispute storage record = _disputes[jobId];
        if (record.ruled) revert CallerNotArbitrator(msg.sender);
        record.ruled = true;
        record.ruling = RulingMath.option(ruling);
        emit Ruling(arbitrator, disputeId, ruling);
    }

    /// @inheritdoc IJobEscrow
    function disputeOf(bytes32 jobId)
        external
        view
        returns (uint256, uint256, uint256, bool, bool, bool, RulingOption)
    {
        RulingMath.Dispute memory r = _disputes[jobId];
        return (r.disputeId, r.fee, r.bond, r.byWorker, r.fromReward, r.ruled, r.ruling);
    }

    /// @inheritdoc IJobEscrow
    function disputeCost(uint96 reward) public view returns (uint256 fee, uint256 bond) {
        fee = arbitrator.arbitrationCost("", token);
        bond = RulingMath.bond(reward, disputeBondBps, disputeBondMin);
    }

    /// @dev Moves the money of a ruled dispute as {RulingMath-shares} divides it, slashing an
    /// overturned oracle verdict last; a verdict upheld (or split) only has its attesters' hold released.
    function _settleDispute(bytes32 jobId, JobState storage job, JobTerms calldata terms) internal override {
        RulingMath.Dispute memory r = _disputes[jobId];
        address worker = job.worker;
        (uint256 toWorker, uint256 toAgent, uint256 protocolFee, uint256 toPool) = RulingMath.shares({
            d: r,
            reward: terms.reward,
            oracleFee: terms.oracleFee,
            protocolFee: terms.protocolFee,
            bondPoolShareBps: bondPoolShareBps
        });
        bool overturned = RulingMath.overturned(r);
        // Decided on what the worker really receives, so that Paid always comes with WorkerPaid.
        job.status = toWorker != 0 ? JobStatus.Paid : JobStatus.Refunded;
        if (r.disputed == JobStatus.Submitted) delete _evidenceHashes[jobId]; // stored while Submitted only
        _creditLane(0, protocolFee);
        if (toWorker != 0) emit WorkerPaid(jobId, worker, toWorker, protocolFee);
        if (toAgent != 0) emit AgentRefunded(jobId, terms.agent, toAgent, RefundReason.Ruling);
        emit DisputeSettled(jobId, r.ruling, RulingMath.disputerRight(r), overturned);
        _push(worker, toWorker);
        _push(terms.agent, toAgent);
        if (r.ruling == RulingOption.PayWorker) registry.recordCompletion(worker);
        if (r.ruling == RulingOption.RefundAgent) registry.recordDisputeLost(worker);
        // slither-disable-next-line reentrancy-no-eth
        _fundPool(toPool);
        if (overturned) _slashOracle(jobId, r.fee, r.byWorker ? worker : terms.agent);
        else if (r.disputed != JobStatus.Submitted) IVerificationOracle(oracle).releaseVerdict(jobId);
    }

    /// @dev Who may dispute when: the agent against an approval and the worker against a rejection,
    /// within the challenge window; either of them once the oracle missed its deadline, within the
    /// challenge window that follows it.
    function _mayDispute(JobState storage job, JobTerms calldata terms, JobStatus status, bool byWorker)
        private
        view
        returns (bool)
    {
        bool byAgent = msg.sender == terms.agent;
        if (status == JobStatus.Approved) return byAgent && block.timestamp <= job.deadline;
        if (status == JobStatus.Rejected) return byWorker && block.timestamp <= job.deadline;
        if (status == JobStatus.Submitted) {
            return (byAgent || byWorker) && block.timestamp > job.deadline
                && block.timestamp <= uint256(job.deadline) + terms.challengeWindow;
        }
        return false;
    }

    /// @dev The amount is only known once the oracle has slashed; {RulingMath-slashShares} divides it.
    function _slashOracle(bytes32 jobId, uint256 fee, address disputer) private {
        // The oracle is immutable and trusted, and every caller is nonReentrant.
        // slither-disable-next-line reentrancy-no-eth
        uint256 slashed = IVerificationOracle(oracle).slashVerdict(jobId);
        (uint256 toDisputer, uint256 toProtocol) = RulingMath.slashShares(slashed, fee, wrongedShareBps);
        _creditLane(0, toProtocol);
        _credit(disputer, toDisputer);
        emit OracleSlashed(jobId, slashed, toDisputer);
    }

    /// @dev Tops up the arbitrators' reward reserve; an arbitrator without one leaves it to the treasury.
    function _fundPool(uint256 amount) private {
        if (amount == 0) return;
        token.forceApprove(address(arbitrator), amount);
        // The arbitrator is immutable and every caller is nonReentrant.
        // slither-disable-next-line reentrancy-no-eth
        try IArbitrationPool(address(arbitrator)).fundRewards(amount) {}
        catch {
            token.forceApprove(address(arbitrator), 0);
            _creditLane(0, amount);
        }
    }
}
