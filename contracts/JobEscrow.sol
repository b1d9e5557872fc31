// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IJobEscrow, JobStatus, JobTerms, RefundReason} from "./interfaces/IJobEscrow.sol";
import {IVerificationOracle} from "./interfaces/IVerificationOracle.sol";
import {IWorkerRegistry, WorkOutcome} from "./interfaces/IWorkerRegistry.sol";

/// @title JobEscrow
/// @notice Holds the money of escalated tickets; see {IJobEscrow}.
contract JobEscrow is IJobEscrow, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Highest protocol fee governance can set: 10 % of the reward.
    uint16 public constant MAX_PROTOCOL_FEE_BPS = 1_000;
    /// @notice Longest challenge window a job may ask for.
    uint32 public constant MAX_CHALLENGE_WINDOW = 30 days;

    /// @notice The settlement token (USDC on Polygon).
    IERC20 public immutable token;
    /// @notice Where eligibility is checked and reputation is written.
    IWorkerRegistry public immutable registry;
    /// @notice The only caller of `recordVerdict`.
    address public immutable oracle;
    /// @notice Seconds the oracle has from evidence submission to a final verdict.
    uint32 public immutable verificationWindow;
    /// @notice Highest flat oracle fee governance can set, in token units.
    uint64 public immutable maxOracleFee;

    /// @dev What transactions changed; everything else about a job is in its terms (its id).
    struct JobState {
        JobStatus status;
        address worker; // set on acceptance
        uint40 deadline; // acceptBy (Open), resolveBy (Accepted), verifyBy (Submitted), challenge end (Approved, Rejected)
    }

    /// @notice Protocol fee on new jobs, in basis points of the reward.
    uint16 public protocolFeeBps;
    /// @notice Flat oracle fee on new jobs, in token units.
    uint64 public oracleFee;
    /// @notice Whether new jobs are stopped; shares a slot with the fees read by every post.
    bool public paused;
    /// @notice Where collected protocol fees go.
    address public treasury;
    /// @inheritdoc IJobEscrow
    uint96 public protocolFeesAccrued; // shares a slot with `treasury`

    mapping(bytes32 jobId => JobState) private _states; // kept after settlement: an id is used once
    mapping(bytes32 jobId => bytes32) private _evidenceHashes; // cleared once the job settles
    mapping(address account => uint256) private _credits;

    modifier onlyOracle() {
        if (msg.sender != oracle) revert CallerNotOracle(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert PostingPaused();
        _;
    }

    constructor(
        IERC20 token_,
        IWorkerRegistry registry_,
        address oracle_,
        address treasury_,
        address governance,
        uint32 verificationWindow_,
        uint64 maxOracleFee_
    ) Ownable(governance) {
        if (address(token_) == address(0)) revert BadWiring("token");
        if (treasury_ == address(0)) revert BadWiring("treasury");
        if (verificationWindow_ == 0) revert BadWiring("verificationWindow");
        if (registry_.escrow() != address(this)) revert BadWiring("registry.escrow");
        if (IVerificationOracle(oracle_).escrow() != address(this)) revert BadWiring("oracle.escrow");
        token = token_;
        registry = registry_;
        oracle = oracle_;
        treasury = treasury_;
        verificationWindow = verificationWindow_;
        maxOracleFee = maxOracleFee_;
    }

    /// @inheritdoc IJobEscrow
    function postJob(JobTerms calldata terms) external whenNotPaused nonReentrant returns (bytes32) {
        return _post(terms);
    }

    /// @inheritdoc IJobEscrow
    function postJobWithPermit(JobTerms calldata terms, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
        nonReentrant
        returns (bytes32)
    {
        // A failed permit is not fatal: someone may have submitted it first, and the transfer in
        // _post fails anyway when the allowance is short.
        try IERC20Permit(address(token)).permit(msg.sender, address(this), _total(terms), permitDeadline, v, r, s) {}
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
        bytes32 jobId = _id(terms);
        JobState storage job = _states[jobId];
        _requireStatus(jobId, job.status, JobStatus.Open);
        if (block.timestamp > terms.acceptBy) revert DeadlinePassed(jobId, terms.acceptBy);
        if (terms.offeredTo != address(0) && terms.offeredTo != msg.sender) revert Unauthorized(jobId, msg.sender);
        job.status = JobStatus.Accepted;
        job.worker = msg.sender;
        job.deadline = terms.resolveBy;
        emit JobAccepted(jobId, msg.sender);
        registry.startJob(msg.sender, terms.requirements);
    }

    /// @inheritdoc IJobEscrow
    function submitEvidence(bytes32 jobId, bytes32 evidenceHash, string calldata uri) external {
        JobState storage job = _states[jobId];
        _requireStatus(jobId, job.status, JobStatus.Accepted);
        if (msg.sender != job.worker) revert Unauthorized(jobId, msg.sender);
        if (block.timestamp > job.deadline) revert DeadlinePassed(jobId, job.deadline);
        if (evidenceHash == bytes32(0) || bytes(uri).length == 0) revert EmptyEvidence(jobId);
        job.status = JobStatus.Submitted;
        job.deadline = uint40(block.timestamp) + verificationWindow;
        _evidenceHashes[jobId] = evidenceHash;
        emit EvidenceSubmitted(jobId, msg.sender, evidenceHash, uri);
    }

    /// @inheritdoc IJobEscrow
    function recordVerdict(JobTerms calldata terms, bytes32 evidenceHash, bool approved, address[] calldata attesters)
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
        _shareOracleFee(terms.oracleFee, attesters);
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

    /// @inheritdoc IJobEscrow
    function settle(JobTerms calldata terms) external nonReentrant {
        bytes32 jobId = _id(terms);
        JobState storage job = _states[jobId];
        JobStatus status = job.status;
        uint40 notBefore = job.deadline;
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
            _refund(jobId, job, terms, _total(terms), RefundReason.VerificationMissed);
            registry.finishJob(worker, WorkOutcome.Released);
        }
    }

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

    /// @notice Sets the fees charged to jobs posted from now on. Governance only.
    function setFees(uint16 protocolFeeBps_, uint64 oracleFee_) external onlyOwner {
        if (protocolFeeBps_ > MAX_PROTOCOL_FEE_BPS) revert FeeAboveCap(protocolFeeBps_, MAX_PROTOCOL_FEE_BPS);
        if (oracleFee_ > maxOracleFee) revert FeeAboveCap(oracleFee_, maxOracleFee);
        protocolFeeBps = protocolFeeBps_;
        oracleFee = oracleFee_;
        emit FeesChanged(protocolFeeBps_, oracleFee_);
    }

    /// @notice Sets where protocol fees go from now on. Governance only.
    function setTreasury(address treasury_) external onlyOwner {
        if (treasury_ == address(0)) revert BadWiring("treasury");
        treasury = treasury_;
        emit TreasuryChanged(treasury_);
    }

    /// @notice Stops or resumes new jobs; settlement, refunds and withdrawals never stop. Governance only.
    function setPaused(bool paused_) external onlyOwner {
        paused = paused_;
        emit PausedChanged(paused_);
    }

    /// @inheritdoc IJobEscrow
    function quote(uint96 reward) public view returns (uint64, uint64) {
        return (oracleFee, uint64((uint256(reward) * protocolFeeBps) / 10_000));
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

    /// @inheritdoc IJobEscrow
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
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
        token.safeTransferFrom(msg.sender, address(this), _total(terms));
    }

    function _payWorker(bytes32 jobId, JobState storage job, JobTerms calldata terms) private {
        address worker = job.worker;
        job.status = JobStatus.Paid;
        delete _evidenceHashes[jobId];
        protocolFeesAccrued += terms.protocolFee;
        emit WorkerPaid(jobId, worker, terms.reward, terms.protocolFee);
        _push(worker, terms.reward);
    }

    function _refund(bytes32 jobId, JobState storage job, JobTerms calldata terms, uint256 amount, RefundReason why)
        private
    {
        job.status = JobStatus.Refunded;
        delete _evidenceHashes[jobId];
        emit AgentRefunded(jobId, terms.agent, amount, why);
        _push(terms.agent, amount);
    }

    /// @dev The oracle fee goes to the operators who attested the verdict; the first takes the dust.
    function _shareOracleFee(uint64 fee, address[] calldata attesters) private {
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
    function _push(address to, uint256 amount) private {
        if (amount == 0) return;
        if (!token.trySafeTransfer(to, amount)) _credit(to, amount);
    }

    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        _credits[account] += amount;
        emit Credited(account, amount);
    }

    function _requireStatus(bytes32 jobId, JobStatus actual, JobStatus expected) private pure {
        if (actual != expected) revert JobNotInStatus(jobId, actual, expected);
    }

    function _id(JobTerms calldata terms) private pure returns (bytes32) {
        return keccak256(abi.encode(terms));
    }

    function _total(JobTerms calldata terms) private pure returns (uint256) {
        return uint256(terms.reward) + terms.oracleFee + terms.protocolFee;
    }

    /// @dev The oracle earned its fee by verifying; the rest goes back.
    function _rejectionRefund(JobTerms calldata terms) private pure returns (uint256) {
        return uint256(terms.reward) + terms.protocolFee;
    }
}
