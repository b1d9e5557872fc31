// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IArbitrableV2} from "./interfaces/IArbitrableV2.sol";
import {IArbitrationPool} from "./interfaces/IArbitrationPool.sol";
import {IArbitratorV2} from "./interfaces/IArbitratorV2.sol";
import {IJobEscrow, JobStatus, JobTerms, RefundReason, RulingOption} from "./interfaces/IJobEscrow.sol";
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
    /// @notice Decides disputes (ERC-792); the bonded arbitration pool by default.
    IArbitratorV2 public immutable arbitrator;
    /// @notice Least dispute bond, in token units.
    uint96 public immutable disputeBondMin;
    /// @notice Dispute bond as basis points of the reward, when above the minimum.
    uint16 public immutable disputeBondBps;
    /// @notice Share of a forfeited bond that goes to the arbitrators' reward reserve.
    uint16 public immutable bondPoolShareBps;
    /// @notice Share of slashed oracle stake, after the fee reimbursement, that goes to the wronged party.
    uint16 public immutable wrongedShareBps;

    /// @notice A dispute without a ruling after this long settles as a split, so money never sticks.
    uint40 public constant DISPUTE_TIMEOUT = 30 days;

    /// @notice ERC-1497 meta-evidence id shared by all jobs; the evidence group of a job is its id.
    uint256 public constant META_EVIDENCE_ID = 0;

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

    /// @dev One slot: what arbitration needs besides the terms.
    struct DisputeRecord {
        uint64 disputeId; // the arbitrator's id
        uint64 fee; // paid to the arbitrator up front
        uint64 bond; // returned, or forfeited when the disputer is proven wrong
        JobStatus disputed; // Approved, Rejected or Submitted (oracle missed its deadline)
        bool byWorker;
        bool fromReward; // fee and bond were taken out of the reward at stake
        bool ruled;
        RulingOption ruling;
    }

    /// @dev What transactions changed; everything else about a job is in its terms (its id).
    struct JobState {
        JobStatus status;
        address worker; // set on acceptance
        // acceptBy (Open), resolveBy (Accepted), verifyBy (Submitted), challenge end (Approved,
        // Rejected), dispute timeout (Disputed)
        uint40 deadline;
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
    mapping(bytes32 jobId => DisputeRecord) private _disputes;
    mapping(uint256 disputeId => bytes32) private _jobOfDispute;

    modifier onlyOracle() {
        if (msg.sender != oracle) revert CallerNotOracle(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert PostingPaused();
        _;
    }

    constructor(Config memory config) Ownable(config.governance) {
        if (address(config.token) == address(0)) revert BadWiring("token");
        if (address(config.arbitrator) == address(0)) revert BadWiring("arbitrator");
        if (config.treasury == address(0)) revert BadWiring("treasury");
        if (config.verificationWindow == 0) revert BadWiring("verificationWindow");
        if (config.bondPoolShareBps > 10_000 || config.wrongedShareBps > 10_000) revert BadWiring("shareBps");
        if (config.registry.escrow() != address(this)) revert BadWiring("registry.escrow");
        if (IVerificationOracle(config.oracle).escrow() != address(this)) revert BadWiring("oracle.escrow");
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
        emit MetaEvidence(META_EVIDENCE_ID, config.metaEvidenceURI);
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
            _refund(jobId, job, terms, _total(terms), RefundReason.VerificationMissed);
            registry.finishJob(worker, WorkOutcome.Released);
        }
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
        // A worker may borrow fee and bond only from the half of the reward a split would leave it,
        // so that no ruling short of losing makes the agent pay for the worker's dispute.
        if (fromReward && fee + bond > terms.reward / 2) revert BondExceedsReward(jobId, fee + bond, terms.reward);
        job.status = JobStatus.Disputed;
        job.deadline = uint40(block.timestamp) + DISPUTE_TIMEOUT;
        DisputeRecord storage record = _disputes[jobId];
        record.fee = SafeCast.toUint64(fee);
        record.bond = SafeCast.toUint64(bond);
        record.disputed = status;
        record.byWorker = byWorker;
        record.fromReward = fromReward;
        if (status == JobStatus.Submitted) registry.finishJob(worker, WorkOutcome.Released);
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
        DisputeRecord storage record = _disputes[jobId];
        if (record.ruled) revert CallerNotArbitrator(msg.sender);
        record.ruled = true;
        record.ruling = ruling > uint256(RulingOption.RefundAgent) ? RulingOption.Split : RulingOption(ruling);
        emit Ruling(arbitrator, disputeId, ruling);
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
    function disputeOf(bytes32 jobId)
        external
        view
        returns (uint256, uint256, uint256, bool, bool, bool, RulingOption)
    {
        DisputeRecord memory r = _disputes[jobId];
        return (r.disputeId, r.fee, r.bond, r.byWorker, r.fromReward, r.ruled, r.ruling);
    }

    /// @inheritdoc IJobEscrow
    function disputeCost(uint96 reward) public view returns (uint256 fee, uint256 bond) {
        fee = arbitrator.arbitrationCost("", token);
        bond = (uint256(reward) * disputeBondBps) / 10_000;
        if (bond < disputeBondMin) bond = disputeBondMin;
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

    /// @dev Moves the money of a ruled dispute. The reward pot (less fee and bond when the worker
    /// bonded with it) goes by the ruling; the bond comes back unless the disputer was proven
    /// wrong, in which case it goes to the other side after the arbitrators' share; an overturned
    /// oracle verdict is slashed, reimbursing the disputer's fee first.
    function _settleDispute(bytes32 jobId, JobState storage job, JobTerms calldata terms) private {
        DisputeRecord memory r = _disputes[jobId];
        address worker = job.worker;
        bool disputerRight = r.ruling == (r.byWorker ? RulingOption.PayWorker : RulingOption.RefundAgent);
        bool disputerWrong = r.ruling == (r.byWorker ? RulingOption.RefundAgent : RulingOption.PayWorker);
        uint256 pot = terms.reward;
        // The oracle earned its fee only if it reached a verdict.
        uint256 agentShare = r.disputed == JobStatus.Submitted ? terms.oracleFee : 0;
        uint256 workerShare = 0;
        uint256 protocolFee = 0;
        if (r.ruling == RulingOption.PayWorker) {
            workerShare = pot;
            protocolFee = terms.protocolFee;
        } else if (r.ruling == RulingOption.RefundAgent) {
            agentShare += pot + terms.protocolFee;
        } else {
            workerShare = pot / 2;
            protocolFee = terms.protocolFee / 2;
            agentShare += pot - workerShare + terms.protocolFee - protocolFee;
        }
        (uint256 toDisputer, uint256 toOther, uint256 toPool) = _bondShares(r, disputerWrong);
        // Without a ruling (timeout) the job splits and nobody is slashed.
        bool overturned = r.ruled
            && ((r.disputed == JobStatus.Approved && r.ruling == RulingOption.RefundAgent)
                || (r.disputed == JobStatus.Rejected && r.ruling == RulingOption.PayWorker));
        if (r.byWorker) (workerShare, agentShare) = (workerShare + toDisputer, agentShare + toOther);
        else (agentShare, workerShare) = (agentShare + toDisputer, workerShare + toOther);
        if (r.fromReward) (workerShare, agentShare) = _repayRewardLoan(workerShare, agentShare, r.fee + r.bond);
        // Decided on what the worker really receives, so that Paid always comes with WorkerPaid.
        job.status = workerShare != 0 ? JobStatus.Paid : JobStatus.Refunded;
        delete _evidenceHashes[jobId];
        protocolFeesAccrued += uint96(protocolFee);
        if (workerShare != 0) emit WorkerPaid(jobId, worker, workerShare, protocolFee);
        if (agentShare != 0) emit AgentRefunded(jobId, terms.agent, agentShare, RefundReason.Ruling);
        emit DisputeSettled(jobId, r.ruling, disputerRight, overturned);
        _push(worker, workerShare);
        _push(terms.agent, agentShare);
        if (r.ruling == RulingOption.PayWorker) registry.recordCompletion(worker);
        if (r.ruling == RulingOption.RefundAgent) registry.recordDisputeLost(worker);
        // slither-disable-next-line reentrancy-no-eth
        _fundPool(toPool);
        if (overturned) _slashOracle(jobId, r.fee, r.byWorker ? worker : terms.agent);
    }

    /// @dev The slashed stake reimburses the disputer's fee first; of the rest, `wrongedShareBps`
    /// goes to the disputer (the wronged party) and the remainder to the protocol.
    function _slashOracle(bytes32 jobId, uint256 fee, address disputer) private {
        // The oracle is immutable and trusted, and every caller is nonReentrant; the amount is only
        // known once it has slashed.
        // slither-disable-next-line reentrancy-no-eth
        uint256 slashed = IVerificationOracle(oracle).slashVerdict(jobId);
        uint256 reimbursed = slashed < fee ? slashed : fee;
        uint256 wronged = ((slashed - reimbursed) * wrongedShareBps) / 10_000;
        protocolFeesAccrued += uint96(slashed - reimbursed - wronged);
        _credit(disputer, reimbursed + wronged);
        emit OracleSlashed(jobId, slashed, reimbursed + wronged);
    }

    /// @dev A forfeited bond goes to the other side after the pool's share; a bond the worker took
    /// from the reward goes back to the agent whole, since it was the agent's money all along.
    function _bondShares(DisputeRecord memory r, bool disputerWrong)
        private
        view
        returns (uint256 toDisputer, uint256 toOther, uint256 toPool)
    {
        if (!disputerWrong) return (r.bond, 0, 0);
        toPool = r.fromReward ? 0 : (uint256(r.bond) * bondPoolShareBps) / 10_000;
        return (0, r.bond - toPool, toPool);
    }

    /// @dev A worker who disputed with the reward borrowed fee + bond from it: the shares above are
    /// what it would get had it paid them itself, and the loan comes out of its share. Only when
    /// that share is too small (it lost) does the rest fall on the agent, at most the fee, since
    /// the forfeited bond goes back to the agent.
    function _repayRewardLoan(uint256 workerShare, uint256 agentShare, uint256 loan)
        private
        pure
        returns (uint256, uint256)
    {
        if (workerShare >= loan) return (workerShare - loan, agentShare);
        return (0, agentShare - (loan - workerShare));
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
            protocolFeesAccrued += uint96(amount);
        }
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
