// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IArbitratorV2} from "./IArbitratorV2.sol";
import {IRandomnessSource} from "./IRandomnessSource.sol";

/// @notice Where a dispute's current round stands. Phases after drawing follow from time.
enum RoundPhase {
    None,
    Drawing, // waiting for randomness and a `draw`
    Commit, // drawn arbitrators commit hidden votes until `commitEnd`
    Reveal, // they reveal until `revealEnd`
    Tally, // anyone may tally
    Appealable, // tallied; the losing side may appeal until `appealEnd`
    Final // the ruling is final and recorded
}

/// @notice One panel of a dispute.
struct RoundView {
    uint256 fee; // paid for this round; shared by those who voted with the final ruling
    uint8 panelSize; // 3, then 2n + 1 per appeal
    uint8[3] votes; // revealed votes per choice
    uint40 drawBy; // an undrawn round lapses after this
    uint40 commitEnd;
    uint40 revealEnd;
    uint40 appealEnd;
    address[] panel;
}

/// @title Bonded pool of human arbitrators: stake-weighted random panels, commit and reveal votes,
/// appeals to larger panels, rewards for voting with the final ruling.
interface IArbitrationPool is IArbitratorV2 {
    /// @notice What governance sets for rounds opened from now on; a round keeps the values it
    /// opened with. Each phase lasts MIN_PHASE_MINUTES to MAX_PHASE_MINUTES.
    struct Parameters {
        uint96 feePerArbitrator; // token units per seat of a panel
        uint16 commitMinutes; // length of the commit phase, from the draw
        uint16 revealMinutes; // length of the reveal phase, after the commit phase
        uint16 appealMinutes; // how long a tallied ruling may be appealed
    }

    /// @notice Emitted when `arbitrator` changes its stake to `stake`.
    event StakeChanged(address indexed arbitrator, uint256 stake);

    /// @notice Emitted when `arbitrator` starts unstaking `amount`, withdrawable at `unlockAt`.
    event UnstakeRequested(address indexed arbitrator, uint256 amount, uint40 unlockAt);

    /// @notice Emitted when `arbitrator` stakes `amount` while a draw is pending: the tokens are
    /// held at once, and the stake becomes drawable (`stake` in all) once `applyQueuedStakes` or the
    /// arbitrator's next stake, unstake or withdrawal applies it after the pending draws.
    event StakeQueued(address indexed arbitrator, uint256 amount, uint256 stake);

    /// @notice Emitted when `arbitrator` asks to unstake `amount` while a draw is pending: the stake
    /// stays drawable until the change is applied after the pending draws; its delay starts then.
    event UnstakeQueued(address indexed arbitrator, uint256 amount);

    /// @notice Emitted when a queued unstake of `amount` is dropped as it is applied: the arbitrator
    /// was drawn meanwhile (`locked`), or penalties left `stake` too small for it. Ask again.
    event UnstakeCancelled(address indexed arbitrator, uint256 amount, uint256 stake, uint256 locked);

    /// @notice Emitted when `account` withdraws `amount` (unstaked tokens or rewards).
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice Emitted when round `round` of `disputeId` asks the randomness source for `requestId`.
    event RandomnessRequested(uint256 indexed disputeId, uint256 round, uint256 requestId);

    /// @notice Emitted when the randomness `requestId` of round `round` expired unread (nobody drew
    /// or recorded its seed in time); a new request follows (`RandomnessRequested`).
    event RandomnessExpired(uint256 indexed disputeId, uint256 round, uint256 requestId);

    /// @notice Emitted when the answer to `requestId` is stored for round `round`: its draw uses it
    /// whenever it happens, even after the source can no longer answer.
    event SeedRecorded(uint256 indexed disputeId, uint256 round, uint256 requestId);

    /// @notice Emitted when a ruling becomes final while a draw is pending: its panels are paid (locks
    /// released, stakes penalized, rewards credited) by `payPanels` once no draw is pending.
    event PaymentDeferred(uint256 indexed disputeId);

    /// @notice Emitted when `arbitrator` is drawn into round `round` of `disputeId`: it commits its
    /// vote until `commitEnd` and reveals it until `revealEnd` (unix seconds, both inclusive).
    event Drawn(
        uint256 indexed disputeId, uint256 round, address indexed arbitrator, uint40 commitEnd, uint40 revealEnd
    );

    /// @notice Emitted when `arbitrator` commits a hidden vote.
    event VoteCommitted(uint256 indexed disputeId, uint256 round, address indexed arbitrator);

    /// @notice Emitted when `arbitrator` reveals `choice`.
    event VoteRevealed(uint256 indexed disputeId, uint256 round, address indexed arbitrator, uint256 choice);

    /// @notice Emitted when round `round` is tallied to `ruling`; appeals are possible until `appealEnd`.
    event Tallied(uint256 indexed disputeId, uint256 round, uint256 ruling, bool tied, uint40 appealEnd);

    /// @notice Emitted when `arbitrator` is credited `reward` for voting with the final ruling.
    event Rewarded(uint256 indexed disputeId, address indexed arbitrator, uint256 reward);

    /// @notice Emitted when `arbitrator` loses `penalty` of its stake for voting against the final
    /// ruling or not revealing.
    event Penalized(uint256 indexed disputeId, address indexed arbitrator, uint256 penalty);

    /// @notice Emitted when the ruling reached the arbitrable contract.
    event RulingDelivered(uint256 indexed disputeId);

    /// @notice Emitted when the arbitrable contract's `rule` reverted; anyone may `deliverRuling` again.
    event RulingDeliveryFailed(uint256 indexed disputeId);

    /// @notice Emitted when `funder` adds `amount` to the reserve that tops up the next panel's fee;
    /// the funder is the pool itself when a round's pot found nobody who voted with the final ruling.
    event RewardsFunded(address indexed funder, uint256 amount);

    /// @notice Emitted when governance changes fees or phase durations.
    event ParametersChanged(uint96 feePerArbitrator, uint16 commitMinutes, uint16 revealMinutes, uint16 appealMinutes);

    /// @notice Thrown when a stake would leave `arbitrator` outside [min, max] (0 is allowed: leaving);
    /// at deployment (`arbitrator` 0), when min > max, min < lockPerDraw or lockPerDraw is 0.
    error StakeOutOfBounds(address arbitrator, uint256 stake, uint256 min, uint256 max);

    /// @notice Thrown when `account` starts unstaking while `pending` is still unstaking (until
    /// `unlockAt`, or withdrawable since): a new request would restart the delay of that amount.
    error UnstakePending(address account, uint256 pending, uint40 unlockAt);

    /// @notice Thrown when a pool would have `maxRounds` rounds, outside 1 to `limit`.
    error RoundsOutOfBounds(uint256 maxRounds, uint256 limit);

    /// @notice Thrown when unstaking while drawn in a live dispute (`locked` > 0).
    error StakeLockedInDispute(address arbitrator, uint256 locked);

    /// @notice Thrown when withdrawing unstaked tokens before `unlockAt`, or with nothing to withdraw.
    error NothingToWithdraw(address account, uint40 unlockAt);

    /// @notice Thrown when `disputeId` is in `actual`, not `expected`.
    error WrongPhase(uint256 disputeId, RoundPhase actual, RoundPhase expected);

    /// @notice Thrown when applying queued stakes or paying panels while `pending` rounds wait for a draw.
    error DrawsPending(uint256 pending);

    /// @notice Thrown when drawing `disputeId` before round `firstRound` of `firstDisputeId`, which
    /// requested its randomness earlier and can still be drawn: pending rounds are drawn in order.
    error DrawOutOfOrder(uint256 disputeId, uint256 firstDisputeId, uint256 firstRound);

    /// @notice Thrown when drawing after `drawBy`: the round lapses at `executeRuling`.
    error DrawTooLate(uint256 disputeId, uint40 drawBy);

    /// @notice Thrown when recording a seed that is recorded already.
    error SeedAlreadyRecorded(uint256 disputeId, uint256 round);

    /// @notice Thrown when paying the panels of a dispute whose panels are paid already.
    error AlreadyPaid(uint256 disputeId);

    /// @notice Thrown when the randomness for `disputeId` is not known yet; try again next block.
    error RandomnessNotReady(uint256 disputeId, uint256 requestId);

    /// @notice Thrown when fewer than `needed` distinct arbitrators with free stake could be drawn.
    error NotEnoughArbitrators(uint256 disputeId, uint256 drawn, uint256 needed);

    /// @notice Thrown when `account` is not on the current panel, or has already acted.
    error NotOnPanel(uint256 disputeId, address account);

    /// @notice Thrown when a reveal does not match the commitment (other choice or salt).
    error CommitmentMismatch(uint256 disputeId, address arbitrator);

    /// @notice Thrown for a commitment value reserved by the pool (0 to 4).
    error InvalidCommitment(bytes32 commitment);

    /// @notice Thrown for a choice outside 0..2.
    error InvalidChoice(uint256 choice);

    /// @notice Thrown when `caller` may not act for `disputeId` (only its arbitrable may appeal).
    error NotArbitrable(uint256 disputeId, address caller);

    /// @notice Thrown when the dispute has used all its rounds.
    error NoMoreAppeals(uint256 disputeId, uint256 maxRounds);

    /// @notice Thrown for a fee token other than the pool's, or a fee below the cost.
    error FeeNotAccepted(address feeToken, uint256 feeAmount, uint256 cost);

    /// @notice Thrown when a phase would last `minutes_`, outside [min, max] minutes.
    error PhaseLengthOutOfBounds(uint256 minutes_, uint256 min, uint256 max);

    /// @notice Thrown for a number of choices other than 2.
    error UnsupportedChoices(uint256 choices);

    /// @notice Thrown when a ruling is delivered already.
    error AlreadyDelivered(uint256 disputeId);

    /// @notice Adds `amount` to the caller's stake (the stake, queued stake included, within min and
    /// max); the tokens are taken at once. While a draw is pending (`pendingDraws` > 0) the stake is
    /// queued (`StakeQueued`) and drawable only once applied after those draws, so that no stake
    /// placed after a randomness request can change the panel it draws.
    function stake(uint256 amount) external;

    /// @notice Takes `amount` out of the caller's stake (not drawable); withdrawable after the delay.
    /// Reverts while the caller is drawn in a live dispute, and while an earlier amount is still
    /// unstaking or not withdrawn (`UnstakePending`), so that no delay ever restarts. While a draw
    /// is pending it is queued (`UnstakeQueued`): the stake stays drawable until applied after those
    /// draws, the delay starts then, and a draw that seats the caller meanwhile cancels it.
    function requestUnstake(uint256 amount) external;

    /// @notice Applies the stakes and unstakes that `arbitrators` queued while draws were pending;
    /// anyone may call, once no draw is pending (else `DrawsPending`). Each arbitrator's own next
    /// stake, unstake or withdrawal applies its queue as well.
    function applyQueuedStakes(address[] calldata arbitrators) external;

    /// @notice Withdraws unstaked tokens whose delay has passed, and any rewards.
    function withdraw() external returns (uint256 amount);

    /// @notice Pulls `amount` into the reward reserve, paid to the first panel of the next dispute
    /// `reserveArbitrable` opens (for example the pool's share of a forfeited dispute bond). Anyone
    /// may fund it; nobody can take it out except by a dispute of `reserveArbitrable`.
    function fundRewards(uint256 amount) external;

    /// @notice Draws the current round's panel from the committed randomness and starts its commit
    /// phase; anyone may call, until the round's drawBy. Each seat is announced by `Drawn`, with the
    /// round's deadlines. Rounds are drawn in the order they requested randomness (`DrawOutOfOrder`);
    /// from the request to the draw no stake, unstake, penalty or lock release reaches the sortition
    /// tree, so the panel follows from the seed alone. When the randomness expired unread (see
    /// `recordSeed`), it is requested again instead (`RandomnessExpired`, `RandomnessRequested`); the
    /// round keeps its place in the order and the tree stays frozen.
    function draw(uint256 disputeId) external;

    /// @notice Stores the current round's seed once the randomness source answers, so that letting
    /// the request expire (256 blocks for blockhash randomness) cannot buy a new draw; anyone may
    /// call. Keepers of either party call it as soon as the seed is known when the draw itself has to
    /// wait (an earlier round is drawn first).
    function recordSeed(uint256 disputeId) external;

    /// @notice A drawn arbitrator commits keccak256(abi.encode(disputeId, round, arbitrator, choice, salt)).
    function commit(uint256 disputeId, bytes32 commitment) external;

    /// @notice A drawn arbitrator reveals its committed `choice` with `salt`.
    function reveal(uint256 disputeId, uint256 choice, bytes32 salt) external;

    /// @notice Counts the revealed votes of the current round after the reveal phase; anyone may call.
    function tally(uint256 disputeId) external;

    /// @notice Makes the ruling final once no appeal is possible, pays the panels, and delivers
    /// the ruling to the arbitrable contract; anyone may call. While a draw is pending the panels are
    /// paid later, by `payPanels` (`PaymentDeferred`); the ruling is delivered at once.
    function executeRuling(uint256 disputeId) external;

    /// @notice Pays the panels of a final dispute whose payment was deferred; anyone may call once
    /// no draw is pending.
    function payPanels(uint256 disputeId) external;

    /// @notice Retries delivery of a final ruling whose callback failed; anyone may call.
    function deliverRuling(uint256 disputeId) external;

    /// @notice The phase of the current round of `disputeId`.
    function phase(uint256 disputeId) external view returns (RoundPhase);

    /// @notice Round `round` of `disputeId`.
    function roundOf(uint256 disputeId, uint256 round) external view returns (RoundView memory);

    /// @notice The commitment an arbitrator makes for `choice` with `salt`.
    function commitmentOf(uint256 disputeId, uint256 round, address arbitrator, uint256 choice, bytes32 salt)
        external
        pure
        returns (bytes32);

    /// @notice Sets the fee per seat and the phase durations of rounds opened from now on (a round
    /// keeps the fee and the phase durations it was opened with). Each phase lasts
    /// MIN_PHASE_MINUTES to MAX_PHASE_MINUTES, so that a drawn panel always has time to vote.
    /// Governance only.
    function setParameters(Parameters calldata parameters_) external;

    /// @notice The fee per seat and phase durations of new rounds (governance).
    function parameters()
        external
        view
        returns (uint96 feePerArbitrator, uint16 commitMinutes, uint16 revealMinutes, uint16 appealMinutes);

    /// @notice The protocol's escrow: the only arbitrable whose disputes draw on the reward reserve,
    /// so that nobody can open a dispute directly on the pool to sweep the reserve to a panel.
    function reserveArbitrable() external view returns (address);

    /// @notice Funds waiting to top up the first panel of `reserveArbitrable`'s next dispute.
    function rewardReserve() external view returns (uint256);

    /// @notice `arbitrator`'s drawable stake and the part of it locked by draws, its stake being
    /// unstaked and when that unlocks, and its rewards not yet withdrawn.
    function arbitratorOf(address arbitrator)
        external
        view
        returns (uint256 staked, uint256 locked, uint256 unstaking, uint40 unlockAt, uint256 rewards);

    /// @notice What `arbitrator` queued while draws were pending: stake held and not yet drawable,
    /// and stake still drawable that leaves once applied.
    function queuedOf(address arbitrator) external view returns (uint256 stakeIn, uint256 unstakeOut);

    /// @notice Rounds whose randomness is requested and whose panel is not drawn yet, while any of
    /// them may still be drawn; stake changes are queued while this is above 0.
    function pendingDraws() external view returns (uint256);

    /// @notice The sum of all drawable stake.
    function totalStake() external view returns (uint256);

    /// @notice The staking and fee token.
    function token() external view returns (IERC20);

    /// @notice Where draws get their randomness.
    function randomness() external view returns (IRandomnessSource);

    /// @notice Least stake an arbitrator may hold (0 aside, which means leaving).
    function minStake() external view returns (uint96);

    /// @notice Most stake one arbitrator may hold, so that no one dominates draws.
    function maxStake() external view returns (uint96);

    /// @notice Stake locked per seat drawn; lost when voting against the final ruling or not revealing.
    function lockPerDraw() external view returns (uint96);

    /// @notice Seconds between `requestUnstake` and the withdrawal of the unstaked tokens.
    function unstakeDelay() external view returns (uint40);

    /// @notice Most rounds a pool may be deployed with (panels of 3, 7, 15, 31), so that a panel
    /// size always fits its uint8 and a last panel can still be drawn.
    function MAX_ROUNDS() external view returns (uint8);

    /// @notice Rounds a dispute may have (1 to MAX_ROUNDS); the last round's ruling is final at once.
    function maxRounds() external view returns (uint8);

    /// @notice Size of the first panel; each appeal draws 2n + 1.
    function FIRST_PANEL() external view returns (uint8);

    /// @notice Shortest commit, reveal or appeal phase governance may set, in minutes.
    function MIN_PHASE_MINUTES() external view returns (uint16);

    /// @notice Longest commit, reveal or appeal phase governance may set, in minutes. With
    /// DRAW_TIMEOUT and MAX_ROUNDS it bounds a dispute: MAX_ROUNDS x (DRAW_TIMEOUT + 3 x this) is
    /// 28 days, inside the escrow's 30-day DISPUTE_TIMEOUT, so appealing late cannot outlast it.
    function MAX_PHASE_MINUTES() external view returns (uint16);

    /// @notice Gas given to the arbitrable's `rule`, so that a callback that burns gas cannot jam execution.
    function RULE_CALLBACK_GAS() external view returns (uint256);

    /// @notice A round whose panel cannot be drawn for this long lapses at `executeRuling`: an appeal
    /// round falls back to the previous ruling (its fee goes to the previous panel); a first round rules 0.
    function DRAW_TIMEOUT() external view returns (uint40);
}
