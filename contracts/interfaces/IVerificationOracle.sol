// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SignedEvidence} from "./IEscrowRelay.sol";
import {JobStatus, JobTerms} from "./IJobEscrow.sol";

/// @notice One staked operator of the verification oracle.
struct Operator {
    uint96 stake; // counts toward the minimum; slashable
    uint96 unstaking; // requested out, still slashable until withdrawn
    uint40 unstakeAt; // unix seconds from when `unstaking` may be withdrawn, unless a dispute holds it
    uint8 index; // 1-based bit in attestation masks; kept for life, never reused
    bool active; // in the operator set (governance)
}

/// @title k-of-n verification oracle for submitted evidence.
/// @notice Staked operators check a job's evidence off-chain and attest on chain. The first verdict
/// to reach the quorum is final and goes to the escrow.
interface IVerificationOracle {
    /// @notice Emitted when governance adds `operator` with mask bit `index`.
    event OperatorAdded(address indexed operator, uint8 index, uint64 setNonce);

    /// @notice Emitted when governance removes `operator`; its stake is withdrawn as any other's
    /// (after the delay, and not while a disputed verdict it attested is unsettled).
    event OperatorRemoved(address indexed operator, uint64 setNonce);

    /// @notice Emitted when governance sets the quorum; `setNonce` voids older signatures.
    event QuorumChanged(uint8 quorum, uint64 setNonce);

    /// @notice Emitted when `operator` publishes where its node takes evidence and signatures (empty:
    /// withdrawn); the other operators' nodes follow it to find their peers.
    event EndpointSet(address indexed operator, string endpoint);

    /// @notice Emitted when `operator` adds `amount` to its stake.
    event Staked(address indexed operator, uint256 amount, uint256 stake);

    /// @notice Emitted when `operator` starts unstaking `amount`, withdrawable at `unstakeAt`.
    event UnstakeRequested(address indexed operator, uint256 amount, uint40 unstakeAt);

    /// @notice Emitted when `operator` withdraws `amount` of unstaked tokens.
    event StakeWithdrawn(address indexed operator, uint256 amount);

    /// @notice Emitted for every attestation sent by its operator, with a machine-readable `reason`
    /// code. Attestations aggregated by signature appear only in `VerdictReached`.
    event Attested(bytes32 indexed jobId, address indexed operator, bytes32 evidenceHash, bool approve, uint8 reason);

    /// @notice Emitted when a verdict on `jobId` reaches the quorum and is sent to the escrow.
    /// @param reason the reason code of the final attestation (or of the aggregated signatures)
    /// @param attesters mask of the operators who attested it: bit i is the operator with index i + 1
    event VerdictReached(bytes32 indexed jobId, bytes32 evidenceHash, bool approved, uint8 reason, uint128 attesters);

    /// @notice Emitted when a dispute of the verdict on `jobId` opens: until it settles, the
    /// operators in `attesters` (mask, bit i = index i + 1) cannot withdraw stake.
    event VerdictHeld(bytes32 indexed jobId, uint128 attesters);

    /// @notice Emitted when the dispute of the verdict on `jobId` settles and its hold on the
    /// `attesters` ends; `slashed` when the ruling overturned the verdict.
    event VerdictReleased(bytes32 indexed jobId, uint128 attesters, bool slashed);

    /// @notice Emitted when `operator` loses `amount` of stake for a verdict on `jobId` that
    /// arbitration overturned.
    event Slashed(bytes32 indexed jobId, address indexed operator, uint256 amount);

    /// @notice Thrown when someone other than the escrow slashes.
    error CallerNotEscrow(address caller);

    /// @notice Thrown when `account` is not an active operator with at least the minimum stake.
    error NotActiveOperator(address account);

    /// @notice Thrown when `operator` attests `jobId` a second time.
    error AlreadyAttested(bytes32 jobId, address operator);

    /// @notice Thrown when `jobId` is not awaiting verification (it is in `status`).
    error NotAwaitingVerification(bytes32 jobId, JobStatus status);

    /// @notice Thrown when an attestation names another evidence hash than the job's current one.
    error EvidenceMismatch(bytes32 jobId, bytes32 current, bytes32 attested);

    /// @notice Thrown when an attestation comes after the job's verification deadline.
    error VerificationClosed(bytes32 jobId, uint40 verifyBy);

    /// @notice Thrown when the terms passed with an attestation are not those of `jobId`
    /// (their hash is `termsId`).
    error TermsNotForJob(bytes32 jobId, bytes32 termsId);

    /// @notice Thrown when aggregated signatures do not make a quorum (`valid` of `quorum`).
    error QuorumNotReached(bytes32 jobId, uint256 valid, uint256 quorum);

    /// @notice Thrown when `attestWithSignatures` carries no signature: a verdict needs at least one
    /// attestation made under the current operator set and quorum (`setNonce`).
    error NoCurrentAttestation(bytes32 jobId, uint64 setNonce);

    /// @notice Thrown when `operator` starts unstaking while `pending` is still unstaking (until
    /// `unstakeAt`, or withdrawable since): a new request would restart the delay of that amount.
    error UnstakePending(address operator, uint256 pending, uint40 unstakeAt);

    /// @notice Thrown when `operator` withdraws while `disputedVerdicts` verdicts it attested are
    /// disputed and not yet settled: its stake stays slashable until the rulings are carried out.
    error StakeHeldByDisputes(address operator, uint256 disputedVerdicts);

    /// @notice Thrown when governance adds more operators than the masks hold.
    error OperatorSetFull(uint256 max);

    /// @notice Thrown when `operator` is already in (adding) or not in (removing) the set.
    error OperatorStateUnchanged(address operator, bool active);

    /// @notice Thrown when a published endpoint is longer than `max` bytes.
    error EndpointTooLong(uint256 length, uint256 max);

    /// @notice Thrown for a quorum of zero.
    error InvalidQuorum(uint8 quorum);

    /// @notice Thrown when unstaking more than staked, or withdrawing before `unstakeAt`.
    error StakeLocked(address operator, uint256 requested, uint256 available, uint40 unstakeAt);

    /// @notice Thrown when a constructor argument is zero.
    error BadWiring(string what);

    /// @notice Adds `operator` to the set. Governance only.
    function addOperator(address operator) external;

    /// @notice Removes `operator` from the set; attestations it already made still count, and its
    /// liability for them is unchanged: removal never shortens the delay nor lifts a dispute's hold.
    function removeOperator(address operator) external;

    /// @notice Sets how many matching attestations make a verdict final. Governance only.
    function setQuorum(uint8 quorum_) external;

    /// @notice Publishes the caller's node endpoint, the base URL of its evidence intake and signature
    /// exchange (e.g. `https://op1.example:8700`), for the other operators' nodes to find; an empty
    /// string withdraws it. Operators in the set only (`NotActiveOperator`); at most 256 bytes. The
    /// contract does not check the URL: nodes ignore one they cannot use.
    function setEndpoint(string calldata endpoint) external;

    /// @notice Adds `amount` of the token to the caller's stake.
    function stake(uint256 amount) external;

    /// @notice Starts the delayed withdrawal of `amount` of the caller's stake; reverts while an
    /// earlier amount is unstaking or not yet withdrawn (`UnstakePending`). The amount stops counting
    /// toward `minStake` at once and stays slashable until it is withdrawn.
    function requestUnstake(uint256 amount) external;

    /// @notice Withdraws the caller's unstaking amount once `unstakeDelay` has passed since the
    /// request (`StakeLocked` before) and no disputed verdict the caller attested is still unsettled
    /// (`StakeHeldByDisputes`): stake that attested a verdict stays slashable until the verdict can
    /// no longer be overturned. The delay outlasts the longest time from an attestation to the end
    /// of its verdict's challenge window; a dispute opened within the window holds the stake until
    /// the escrow settles it (anyone may, after the ruling or the escrow's `DISPUTE_TIMEOUT`).
    function withdrawStake() external returns (uint256 amount);

    /// @notice The caller attests `approve` (with `reason`) on `evidenceHash` for `jobId`.
    /// @param terms the job's posted terms, needed when this attestation completes the quorum
    function attest(bytes32 jobId, bytes32 evidenceHash, bool approve, uint8 reason, JobTerms calldata terms)
        external;

    /// @notice Finalizes a verdict from the quorum's EIP-712 signatures in one transaction; anyone
    /// may submit. Signatures are bound to the chain, this contract and the operator-set nonce, and
    /// given in the compact EIP-2098 form (r, yParityAndS). Earlier attestations on the same side
    /// count toward the quorum, but at least one signature is needed: after governance lowers the
    /// quorum, attestations already made never finalize a verdict without a current operator's say.
    function attestWithSignatures(
        bytes32 jobId,
        bytes32 evidenceHash,
        bool approve,
        uint8 reason,
        JobTerms calldata terms,
        bytes32[2][] calldata signatures
    ) external;

    /// @notice The worker's signed evidence and the quorum's verdict on it in one transaction; anyone
    /// may submit (normally one operator). The escrow checks the evidence as `submitEvidenceFor` does
    /// (the job must still be `Accepted`: evidence already on chain goes through `attest` or
    /// `attestWithSignatures` instead), then records the verdict and moves the money. Operators sign
    /// the same `Attestation` as for `attestWithSignatures`; at least `quorum` distinct current
    /// operators must have signed, and they share the oracle fee.
    function submitAndAttest(
        JobTerms calldata terms,
        SignedEvidence calldata evidence,
        bool approve,
        uint8 reason,
        bytes32[2][] calldata signatures
    ) external;

    /// @notice Holds the stake of every operator who attested the verdict on `jobId`, which is now
    /// disputed: none of them may withdraw until the escrow settles the dispute. Escrow only, when a
    /// verdict is disputed; once per job.
    function holdVerdict(bytes32 jobId) external;

    /// @notice Ends the hold on the attesters of the verdict on `jobId`: its dispute settled without
    /// overturning it. Escrow only; once per job.
    function releaseVerdict(bytes32 jobId) external;

    /// @notice Slashes every operator who attested the final verdict on `jobId` by up to
    /// `slashPerOperator` (stake first, then stake being unstaked, all of it while held), ends the
    /// hold and sends the total to the escrow. Escrow only, when a ruling overturned the verdict;
    /// once per job.
    function slashVerdict(bytes32 jobId) external returns (uint256 slashed);

    /// @notice The EIP-712 digest an operator signs for `attestWithSignatures`.
    function attestationDigest(bytes32 jobId, bytes32 evidenceHash, bool approve, uint8 reason)
        external
        view
        returns (bytes32);

    /// @notice The endpoint `operator` published with `setEndpoint`; empty when none.
    function endpointOf(address operator) external view returns (string memory);

    /// @notice `operator`'s stake record.
    function operatorOf(address operator) external view returns (Operator memory);

    /// @notice The operators who attested `jobId` so far, by side; empty once the verdict is final.
    function tally(bytes32 jobId) external view returns (address[] memory approvers, address[] memory rejecters);

    /// @notice The operators (mask) who attested the final verdict on a job with a challenge window,
    /// so that a ruling against the verdict can slash them; cleared when its dispute settles.
    function verdictAttesters(bytes32 jobId) external view returns (uint128);

    /// @notice How many disputed, unsettled verdicts `operator` attested; it may withdraw only at 0.
    function disputedVerdicts(address operator) external view returns (uint256);

    /// @notice Most stake one operator loses for one overturned verdict.
    function slashPerOperator() external view returns (uint96);

    /// @notice Matching attestations needed for a final verdict.
    function quorum() external view returns (uint8);

    /// @notice Bumped on every change to the operator set or quorum; signed into attestations.
    function setNonce() external view returns (uint64);

    /// @notice Minimum stake an operator needs to attest.
    function minStake() external view returns (uint256);

    /// @notice Delay between `requestUnstake` and `withdrawStake`. The escrow refuses an oracle whose
    /// delay is not longer than its `MAX_CHALLENGE_WINDOW` + `verificationWindow`: stake present at an
    /// attestation is then still there when the verdict's challenge window closes.
    function unstakeDelay() external view returns (uint40);

    /// @notice The escrow whose jobs this oracle verifies.
    function escrow() external view returns (address);
}
