// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IArbitrableV2} from "./IArbitrableV2.sol";
import {IArbitratorV2} from "./IArbitratorV2.sol";
import {IWorkerRegistry, Requirements} from "./IWorkerRegistry.sol";

/// @notice Lifecycle of an escalated ticket. The order is the order of progress: a status never
/// moves to a lower value.
enum JobStatus {
    None,
    Open,
    Accepted,
    Submitted,
    Approved,
    Rejected,
    Disputed,
    Paid,
    Refunded
}

/// @notice Why an agent got its money back.
enum RefundReason {
    Cancelled,
    NotAccepted,
    ResolveDeadlineMissed,
    Rejected,
    VerificationMissed,
    Ruling
}

/// @notice The arbitrator's rulings on a job (ERC-792 numbering; 0 = refused to arbitrate = split).
enum RulingOption {
    Split,
    PayWorker,
    RefundAgent
}

/// @notice Everything agreed when a job is posted. A job's id is the keccak256 of its ABI-encoded
/// terms, so nothing of them is stored: callers pass the terms back (they are in `JobPosted`).
struct JobTerms {
    address agent; // funds the job; refunded when the work fails
    uint96 reward; // token units, paid to the worker on approval
    address confirmer; // helpdesk key whose EIP-712 signature is the customer's confirmation; 0 = none
    uint64 oracleFee; // shared by the operators who attest the final verdict
    uint64 protocolFee; // to the treasury when the worker is paid; refunded otherwise
    address offeredTo; // the only worker who may accept (off-chain matching); 0 = anyone eligible
    uint40 acceptBy; // unix seconds; last moment to accept
    uint40 resolveBy; // unix seconds; last moment to submit evidence
    uint32 challengeWindow; // seconds a verdict may be disputed before it settles; 0 = settle at once
    bytes32 specHash; // commits to the acceptance criteria and the sealed context bundle
    Requirements requirements; // language, expertise and certifications the worker needs
}

/// @title Escrow of escalated support tickets.
/// @notice Holds each job's reward and fees from posting until the worker is paid or the agent is
/// refunded. No function lets anyone, governance included, move escrowed funds elsewhere.
interface IJobEscrow is IArbitrableV2 {
    /// @notice Emitted when `agent` posts `jobId`; `terms` are what later calls must pass back.
    event JobPosted(bytes32 indexed jobId, address indexed agent, address indexed offeredTo, JobTerms terms);

    /// @notice Emitted when `worker` accepts `jobId`.
    event JobAccepted(bytes32 indexed jobId, address indexed worker);

    /// @notice Emitted when the worker submits evidence; the bundle at `uri` hashes to `evidenceHash`.
    event EvidenceSubmitted(bytes32 indexed jobId, address indexed worker, bytes32 evidenceHash, string uri);

    /// @notice Emitted when the oracle's final verdict on a job with a challenge window is recorded;
    /// a job without one settles in the same transaction (`WorkerPaid` or `AgentRefunded`).
    event VerdictRecorded(bytes32 indexed jobId, bool approved, uint40 challengeEndsAt);

    /// @notice Emitted when `worker` is paid `amount` for `jobId` (pushed or credited) and
    /// `protocolFee` accrues to the treasury.
    event WorkerPaid(bytes32 indexed jobId, address indexed worker, uint256 amount, uint256 protocolFee);

    /// @notice Emitted when `agent` gets `amount` back for `jobId` (pushed or credited).
    event AgentRefunded(bytes32 indexed jobId, address indexed agent, uint256 amount, RefundReason reason);

    /// @notice Emitted when `amount` is credited to `account` instead of pushed (fees, or a refused
    /// transfer); `withdraw` pays it out.
    event Credited(address indexed account, uint256 amount);

    /// @notice Emitted when the oracle fee `fee` of `jobId` is credited to the operators in the
    /// `attesters` mask (bit i is the operator with index i + 1) in equal shares, the lowest index
    /// taking the rounding dust; `withdrawOperatorFees` pays them.
    event OracleFeeShared(bytes32 indexed jobId, uint128 attesters, uint256 fee);

    /// @notice Emitted when `account` withdraws `amount` of its credit (or operator fees) to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);

    /// @notice Emitted when `disputer` takes `jobId` to arbitration as dispute `disputeId`, paying
    /// `fee` and bonding `bond` (taken from the reward when `fromReward`).
    event JobDisputed(
        bytes32 indexed jobId, address indexed disputer, uint256 disputeId, uint256 fee, uint256 bond, bool fromReward
    );

    /// @notice Emitted when the losing side `appellant` pays `cost` to appeal `jobId`'s ruling.
    event JobAppealed(bytes32 indexed jobId, address indexed appellant, uint256 cost);

    /// @notice Emitted when a disputed job settles by `ruling`; `overturned` when the ruling went
    /// against the oracle's verdict.
    event DisputeSettled(bytes32 indexed jobId, RulingOption ruling, bool disputerRight, bool overturned);

    /// @notice Emitted when `slashed` was taken from the operators whose verdict on `jobId` was
    /// overturned, `toDisputer` of it credited to the disputer (fee reimbursement and its share).
    event OracleSlashed(bytes32 indexed jobId, uint256 slashed, uint256 toDisputer);

    /// @notice Emitted when governance changes the fees charged to new jobs.
    event FeesChanged(uint16 protocolFeeBps, uint64 oracleFee);

    /// @notice Emitted when governance changes where protocol fees go.
    event TreasuryChanged(address indexed treasury);

    /// @notice Emitted when accrued protocol fees of `amount` are sent to `treasury`.
    event ProtocolFeesCollected(address indexed treasury, uint256 amount);

    /// @notice Emitted when governance stops (`true`) or resumes new jobs.
    event PausedChanged(bool paused);

    /// @notice Thrown when an action needs `jobId` in `expected` but it is in `actual`.
    error JobNotInStatus(bytes32 jobId, JobStatus actual, JobStatus expected);

    /// @notice Thrown when `jobId` in `status` cannot be disputed by `caller` now.
    error NotDisputable(bytes32 jobId, JobStatus status, address caller);

    /// @notice Thrown when a worker bonds with the reward but fee + bond exceed half of it (what a
    /// split would leave the worker).
    error BondExceedsReward(bytes32 jobId, uint256 needed, uint256 reward);

    /// @notice Thrown when `caller` may not appeal: only the side the current ruling is against may.
    error NotLosingSide(bytes32 jobId, address caller, uint256 ruling);

    /// @notice Thrown when someone other than the arbitrator delivers a ruling, or for an unknown dispute.
    error CallerNotArbitrator(address caller);

    /// @notice Thrown when posting terms whose job id is already taken.
    error JobExists(bytes32 jobId);

    /// @notice Thrown when new jobs are paused.
    error PostingPaused();

    /// @notice Thrown when posting terms are invalid; `field` names the first bad one.
    error InvalidTerms(string field);

    /// @notice Thrown when posting moved `received` into the escrow instead of the `expected` total
    /// (a fee-on-transfer token): the escrow never books more than it holds.
    error AmountNotReceived(uint256 expected, uint256 received);

    /// @notice Thrown when the posted fees differ from `quote(reward)`.
    error FeeMismatch(uint64 expectedOracleFee, uint64 expectedProtocolFee);

    /// @notice Thrown when `caller` is not the party allowed to do this to `jobId`.
    error Unauthorized(bytes32 jobId, address caller);

    /// @notice Thrown when an action on `jobId` comes after its deadline `deadline`.
    error DeadlinePassed(bytes32 jobId, uint40 deadline);

    /// @notice Thrown when `settle` finds nothing that time allows yet; try again after `notBefore`.
    error NothingToSettle(bytes32 jobId, JobStatus status, uint40 notBefore);

    /// @notice Thrown when a verdict names another evidence hash than the one submitted.
    error EvidenceMismatch(bytes32 jobId, bytes32 submitted, bytes32 given);

    /// @notice Thrown when evidence is submitted without a hash or URI.
    error EmptyEvidence(bytes32 jobId);

    /// @notice Thrown when `account` withdraws with no credit.
    error NothingToWithdraw(address account);

    /// @notice Thrown when governance sets fees above the caps in code.
    error FeeAboveCap(uint256 fee, uint256 cap);

    /// @notice Thrown when someone other than the verification oracle records a verdict.
    error CallerNotOracle(address caller);

    /// @notice Thrown when a constructor argument is zero or the wiring does not point back.
    error BadWiring(string what);

    /// @notice Posts a job; pulls reward + fees from `terms.agent`, who must be the caller, and
    /// reverts (`AmountNotReceived`) unless the escrow's balance grew by exactly that total.
    /// @return jobId keccak256(abi.encode(terms))
    function postJob(JobTerms calldata terms) external returns (bytes32 jobId);

    /// @notice `postJob` with an EIP-2612 permit, so posting is one transaction. A failed permit
    /// is ignored when the allowance already suffices (a front-run permit cannot block the post).
    /// @param permitValue the allowance the permit grants the escrow: the job's total, or more, so
    /// that later posts of the same agent need no permit (only the agent can post from it)
    function postJobWithPermit(
        JobTerms calldata terms,
        uint256 permitValue,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bytes32 jobId);

    /// @notice The agent withdraws an open job; everything it paid comes back.
    function cancelJob(JobTerms calldata terms) external;

    /// @notice The caller takes `jobId`; it must be eligible, within capacity, and the one it is
    /// offered to, if any.
    function acceptJob(JobTerms calldata terms) external;

    /// @notice The assigned worker submits the hash and URI of its evidence bundle, before resolve-by.
    function submitEvidence(bytes32 jobId, bytes32 evidenceHash, string calldata uri) external;

    /// @notice Records the oracle's final verdict on `evidenceHash`, which must be the submitted
    /// evidence; with no challenge window the money moves now.
    /// @param attesters mask of the operators who attested the verdict (bit i is the operator with
    /// index i + 1); they share the oracle fee
    function recordVerdict(JobTerms calldata terms, bytes32 evidenceHash, bool approved, uint128 attesters)
        external;

    /// @notice Takes a verdict to arbitration during the challenge window: the agent against an
    /// approval, the worker against a rejection, either when the oracle missed its deadline. Only
    /// the disputer pays: the arbitration fee plus a bond of max(minimum, a share of the reward).
    /// @param fromReward the worker stakes fee and bond out of the reward at stake instead of paying
    function dispute(JobTerms calldata terms, bool fromReward) external returns (uint256 disputeId);

    /// @notice The side the current ruling goes against pays the next round's fee and appeals.
    function appeal(JobTerms calldata terms) external;

    /// @notice ERC-1497: evidence (a URI) for the arbitrators of a disputed job; anyone may submit,
    /// the event names who did.
    function submitDisputeEvidence(bytes32 jobId, string calldata evidenceURI) external;

    /// @notice Advances `jobId` as far as time allows, moving the money; anyone may call. Pays an
    /// approved worker or refunds a rejected agent after the challenge window; refunds the agent of a
    /// job nobody accepted by accept-by, one whose worker missed resolve-by, or one the oracle did
    /// not verify in time; moves the money of a disputed job once its ruling has arrived (or as a
    /// split when no ruling came within the dispute timeout).
    function settle(JobTerms calldata terms) external;

    /// @notice Sends the accrued protocol fees to the treasury; anyone may call.
    function collectProtocolFees() external returns (uint256 amount);

    /// @notice Pays the caller's credit to `to` (another address when the caller cannot receive).
    function withdraw(address to) external returns (uint256 amount);

    /// @notice Pays the oracle fees the caller earned as an operator (see `OracleFeeShared`) to `to`.
    function withdrawOperatorFees(address to) external returns (uint256 amount);

    /// @notice The fees a job with `reward` must carry now; reverts (SafeCast) when the protocol
    /// fee would not fit in 64 bits, rather than quoting a truncated fee.
    function quote(uint96 reward) external view returns (uint64 jobOracleFee, uint64 jobProtocolFee);

    /// @notice The stored status, worker and current deadline of `jobId` (see docs/protocol.md).
    function jobState(bytes32 jobId) external view returns (JobStatus status, address worker, uint40 deadline);

    /// @notice What the oracle checks an attestation against.
    function verificationContext(bytes32 jobId)
        external
        view
        returns (JobStatus status, bytes32 evidenceHash, uint40 verifyBy);

    /// @notice The id of the job with `terms`: keccak256(abi.encode(terms)).
    function jobIdOf(JobTerms calldata terms) external pure returns (bytes32);

    /// @notice The arbitration dispute of `jobId` and its ruling so far (`ruled` once final).
    function disputeOf(bytes32 jobId)
        external
        view
        returns (uint256 disputeId, uint256 fee, uint256 bond, bool byWorker, bool fromReward, bool ruled, RulingOption ruling);

    /// @notice The fee and bond a dispute of a job with `reward` costs now.
    function disputeCost(uint96 reward) external view returns (uint256 fee, uint256 bond);

    /// @notice Funds credited to `account`, waiting for `withdraw`.
    function creditOf(address account) external view returns (uint256);

    /// @notice Oracle fees `operator` earned and has not withdrawn (`withdrawOperatorFees`).
    function operatorFeesOf(address operator) external view returns (uint256);

    /// @notice Protocol fees accrued and not yet collected.
    function protocolFeesAccrued() external view returns (uint96);

    /// @notice Sets the fees of jobs posted from now on: `protocolFeeBps_` basis points of the reward
    /// (at most `MAX_PROTOCOL_FEE_BPS`) and a flat `oracleFee_` (at most `maxOracleFee`). Jobs
    /// already posted keep the fees they were quoted. Governance only.
    function setFees(uint16 protocolFeeBps_, uint64 oracleFee_) external;

    /// @notice Sets where protocol fees go from now on; not the zero address. Governance only.
    function setTreasury(address treasury_) external;

    /// @notice Stops (`true`) or resumes new jobs; acceptance, evidence, verdicts, settlement,
    /// refunds and withdrawals never stop. Governance only.
    function setPaused(bool paused_) external;

    /// @notice Protocol fee of new jobs, in basis points of the reward (governance).
    function protocolFeeBps() external view returns (uint16);

    /// @notice Flat oracle fee of new jobs, in token units (governance).
    function oracleFee() external view returns (uint64);

    /// @notice Whether new jobs are stopped (governance).
    function paused() external view returns (bool);

    /// @notice Where collected protocol fees go (governance).
    function treasury() external view returns (address);

    /// @notice The settlement token (USDC on Polygon).
    function token() external view returns (IERC20);

    /// @notice Where eligibility is checked and reputation is written.
    function registry() external view returns (IWorkerRegistry);

    /// @notice The verification oracle: the only caller of `recordVerdict`, slashed when a ruling
    /// overturns its verdict.
    function oracle() external view returns (address);

    /// @notice Decides disputes (ERC-792); the bonded arbitration pool by default.
    function arbitrator() external view returns (IArbitratorV2);

    /// @notice Seconds the oracle has from evidence submission to a final verdict.
    function verificationWindow() external view returns (uint32);

    /// @notice Highest flat oracle fee governance can set, in token units (fixed at deployment).
    function maxOracleFee() external view returns (uint64);

    /// @notice Least dispute bond, in token units.
    function disputeBondMin() external view returns (uint96);

    /// @notice Dispute bond as basis points of the reward, when above the minimum.
    function disputeBondBps() external view returns (uint16);

    /// @notice Share of a forfeited bond, in basis points, that goes to the arbitrators' reward reserve.
    function bondPoolShareBps() external view returns (uint16);

    /// @notice Share of slashed oracle stake, after the disputer's fee is reimbursed, that goes to the
    /// disputer (the wronged party), in basis points; the rest goes to the protocol.
    function wrongedShareBps() external view returns (uint16);

    /// @notice Highest protocol fee governance can set: 10 % of the reward.
    function MAX_PROTOCOL_FEE_BPS() external view returns (uint16);

    /// @notice Longest challenge window a job may ask for.
    function MAX_CHALLENGE_WINDOW() external view returns (uint32);

    /// @notice A dispute without a ruling after this long settles as a split, so money never sticks.
    function DISPUTE_TIMEOUT() external view returns (uint40);

    /// @notice ERC-1497 meta-evidence id shared by all jobs; the evidence group of a job is its id.
    function META_EVIDENCE_ID() external view returns (uint256);
}
