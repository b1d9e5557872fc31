// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IJobEscrow, JobStatus, JobTerms, RefundReason} from "../interfaces/IJobEscrow.sol";
import {WorkOutcome} from "../interfaces/IWorkerRegistry.sol";
import {EscrowAccounts} from "./EscrowAccounts.sol";

/// @title JobLifecycle
/// @notice A job from posting to payout or refund: post, cancel, accept, submit evidence, the
/// oracle's verdict, and `settle`, which carries out whatever time allows (docs/protocol.md, "Job
/// state machine"). A disputed job is settled by the arbitrable side, through `_settleDispute`.
abstract contract JobLifecycle is EscrowAccounts {
    using SafeERC20 for IERC20;

    modifier onlyOracle() {
        if (msg.sender != oracle) revert CallerNotOracle(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert PostingPaused();
        _;
    }

    /// @inheritdoc IJobEscrow
    function postJob(JobTerms calldata terms) external whenNotPaused nonReentrant returns (bytes32) {
        return _post(terms);
    }

    /// @inheritdoc IJobEscrow
    function postJobWithPermit(
        JobTerms calldata terms,
        uint256 permitValue,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external whenNotPaused nonReentrant returns (bytes32) {
        // A failed permit is not fatal: someone may have submitted it first, and the transfer in
        // _post fails anyway when the allowance is short.
        try IERC20Permit(address(token)).permit(msg.sender, address(this), permitValue, permitDeadline, v, r, s) {}
            catch {}
        return _post(terms);
    }

    /// @inheritdoc IJobEscrow
    function cancelJob(JobTerms calldata terms) external nonReentrant {
        bytes32 jobId = _id(terms);
        JobState storage job = _states[jobId];
        _requireStatus(jobId, job.status, JobStatus.Open);
        if (msg.sender != terms.agent) revert Unauthorized(jobId, msg.sender);
        _refund(jobId, job, terms, _total(terms), RefundReason.Cancelled);
    }

    /// @inheritdoc IJobEscrow
    function acceptJob(JobTerms calldata terms) external {
        _accept(_id(terms), terms, msg.sender);
    }

    /// @inheritdoc IJobEscrow
    function submitEvidence(bytes32 jobId, bytes32 evidenceHash, string calldata uri) external {
        JobState storage job = _states[jobId];
        _requireStatus(jobId, job.status, JobStatus.Accepted);
        if (msg.sender != job.worker) revert Unauthorized(jobId, msg.sender);
        _submit(jobId, job, msg.sender, evidenceHash, uri);
    }

    /// @inheritdoc IJobEscrow
    function recordVerdict(JobTerms calldata terms, bytes32 evidenceHash, bool approved, uint128 attesters)
        external
        onlyOracle
        nonReentrant
    {
        bytes32 jobId = _id(terms);
        JobState storage job = _states[jobId];
        _requireStatus(jobId, job.status, JobStatus.Submitted);
        if (block.timestamp > job.deadline) revert DeadlinePassed(jobId, job.deadline);
        bytes32 submitted = _evidenceHashes[jobId];
        if (submitted != evidenceHash) revert EvidenceMismatch(jobId, submitted, evidenceHash);
        delete _evidenceHashes[jobId];
        _applyVerdict(jobId, job, terms, approved, attesters);
    }

    /// @inheritdoc IJobEscrow
    function settle(JobTerms calldata terms) external nonReentrant {
        bytes32 jobId = _id(terms);
        JobState storage job = _states[jobId];
        JobStatus status = job.status;
        uint40 notBefore = job.deadline;
        if (status == JobStatus.Disputed && (_disputes[jobId].ruled || block.timestamp > notBefore)) {
            _settleDispute(jobId, job, terms);
            return;
        }
        if (status == JobStatus.Submitted) notBefore += terms.challengeWindow;
        if (status == JobStatus.None || status > JobStatus.Rejected || block.timestamp <= notBefore) {
            revert NothingToSettle(jobId, status, notBefore);
        }
        address worker = job.worker;
        if (status == JobStatus.Approved) {
            _payWorker(jobId, job, terms);
            registry.recordCompletion(worker);
        } else if (status == JobStatus.Rejected) {
            _refund(jobId, job, terms, _rejectionRefund(terms), RefundReason.Rejected);
        } else if (status == JobStatus.Open) {
            _refund(jobId, job, terms, _total(terms), RefundReason.NotAccepted);
        } else if (status == JobStatus.Accepted) {
            _refund(jobId, job, terms, _total(terms), RefundReason.ResolveDeadlineMissed);
            registry.finishJob(worker, WorkOutcome.MissedDeadline);
        } else {
            delete _evidenceHashes[jobId];
            _refund(jobId, job, terms, _total(terms), RefundReason.VerificationMissed);
            registry.finishJob(worker, WorkOutcome.Released);
        }
    }

    /// @inheritdoc IJobEscrow
    function jobState(bytes32 jobId) external view returns (JobStatus, address, uint40) {
        JobState memory job = _states[jobId];
        return (job.status, job.worker, job.deadline);
    }

    /// @inheritdoc IJobEscrow
    function verificationContext(bytes32 jobId) external view returns (JobStatus, bytes32, uint40) {
        JobState memory job = _states[jobId];
        return (job.status, _evidenceHashes[jobId], job.deadline);
    }

    /// @inheritdoc IJobEscrow
    function jobIdOf(JobTerms calldata terms) external pure returns (bytes32) {
        return _id(terms);
    }

    /// @dev Moves the money of a disputed job once its ruling has arrived or its timeout has passed.
    function _settleDispute(bytes32 jobId, JobState storage job, JobTerms calldata terms) internal virtual;

    /// @dev `worker` takes the job: the checks of `acceptJob`, whoever sent the transaction.
    function _accept(bytes32 jobId, JobTerms calldata terms, address worker) internal {
        JobState storage job = _states[jobId];
        _requireStatus(jobId, job.status, JobStatus.Open);
        if (block.timestamp > terms.acceptBy) revert DeadlinePassed(jobId, terms.acceptBy);
        if (terms.offeredTo != address(0) && terms.offeredTo != worker) revert Unauthorized(jobId, worker);
        job.status = JobStatus.Accepted;
        job.worker = worker;
        job.deadline = terms.resolveBy;
        emit JobAccepted(jobId, worker);
        registry.startJob(worker, terms.requirements);
    }

    /// @dev Records the evidence of an accepted job whose worker is `worker` (checked by the caller).
    function _submit(bytes32 jobId, JobState storage job, address worker, bytes32 evidenceHash, string calldata uri)
        internal
    {
        _requireEvidence(jobId, job.deadline, evidenceHash, uri);
        job.status = JobStatus.Submitted;
        job.deadline = uint40(block.timestamp) + verificationWindow;
        _evidenceHashes[jobId] = evidenceHash;
        emit EvidenceSubmitted(jobId, worker, evidenceHash, uri);
    }

    /// @dev Evidence must come by resolve-by (`resolveBy`) and name a hash and a URI.
    function _requireEvidence(bytes32 jobId, uint40 resolveBy, bytes32 evidenceHash, string calldata uri)
        internal
        view
    {
        if (block.timestamp > resolveBy) revert DeadlinePassed(jobId, resolveBy);
        if (evidenceHash == bytes32(0) || bytes(uri).length == 0) revert EmptyEvidence(jobId);
    }

    /// @dev The final verdict on checked evidence: fees to the attesters, then the money moves now
    /// (no challenge window) or waits for the window.
    function _applyVerdict(
        bytes32 jobId,
        JobState storage job,
        JobTerms calldata terms,
        bool approved,
        uint128 attesters
    ) internal {
        _shareOracleFee(jobId, terms.oracleFee, attesters);
        address worker = job.worker;
        if (terms.challengeWindow != 0) {
            uint40 challengeEndsAt = uint40(block.timestamp) + terms.challengeWindow;
            job.status = approved ? JobStatus.Approved : JobStatus.Rejected;
            job.deadline = challengeEndsAt;
            emit VerdictRecorded(jobId, approved, challengeEndsAt);
            registry.finishJob(worker, WorkOutcome.Released);
        } else if (approved) {
            _payWorker(jobId, job, terms);
            registry.finishJob(worker, WorkOutcome.Completed);
        } else {
            _refund(jobId, job, terms, _rejectionRefund(terms), RefundReason.Rejected);
            registry.finishJob(worker, WorkOutcome.Released);
        }
    }

    function _post(JobTerms calldata terms) private returns (bytes32 jobId) {
        if (terms.agent != msg.sender) revert InvalidTerms("agent");
        if (terms.reward == 0) revert InvalidTerms("reward");
        if (terms.acceptBy <= block.timestamp) revert InvalidTerms("acceptBy");
        if (terms.resolveBy <= terms.acceptBy) revert InvalidTerms("resolveBy");
        if (terms.challengeWindow > MAX_CHALLENGE_WINDOW) revert InvalidTerms("challengeWindow");
        if (terms.requirements.language >= 64) revert InvalidTerms("language");
        (uint64 expectedOracleFee, uint64 expectedProtocolFee) = quote(terms.reward);
        if (terms.oracleFee != expectedOracleFee || terms.protocolFee != expectedProtocolFee) {
            revert FeeMismatch(expectedOracleFee, expectedProtocolFee);
        }
        jobId = _id(terms);
        JobState storage job = _states[jobId];
        if (job.status != JobStatus.None) revert JobExists(jobId);
        job.status = JobStatus.Open;
        job.deadline = terms.acceptBy;
        emit JobPosted(jobId, msg.sender, terms.offeredTo, terms);
        // The token is immutable; the balance is read around the transfer to refuse a token that
        // delivers less than the job books (a fee-on-transfer token would make agents pay for others).
        uint256 total = _total(terms);
        uint256 held = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), total);
        uint256 received = token.balanceOf(address(this)) - held;
        if (received != total) revert AmountNotReceived(total, received);
    }

    function _payWorker(bytes32 jobId, JobState storage job, JobTerms calldata terms) private {
        address worker = job.worker;
        job.status = JobStatus.Paid;
        _creditLane(0, terms.protocolFee);
        emit WorkerPaid(jobId, worker, terms.reward, terms.protocolFee);
        _push(worker, terms.reward);
    }

    function _refund(bytes32 jobId, JobState storage job, JobTerms calldata terms, uint256 amount, RefundReason why)
        private
    {
        job.status = JobStatus.Refunded;
        emit AgentRefunded(jobId, terms.agent, amount, why);
        _push(terms.agent, amount);
    }

    /// @dev The oracle earned its fee by verifying; the rest goes back.
    function _rejectionRefund(JobTerms calldata terms) private pure returns (uint256) {
        return uint256(terms.reward) + terms.protocolFee;
    }
}
