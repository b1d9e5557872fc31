// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IArbitrableV2} from "../interfaces/IArbitrableV2.sol";
import {IArbitrationPool, RoundPhase, RoundView} from "../interfaces/IArbitrationPool.sol";
import {IArbitratorV2} from "../interfaces/IArbitratorV2.sol";
import {IRandomnessSource} from "../interfaces/IRandomnessSource.sol";
import {PoolStaking} from "./PoolStaking.sol";

/// @title PoolRounds
/// @notice Disputes and their rounds: opening a dispute, appeals to larger panels, drawing a panel
/// from committed randomness, and the phases that time moves a round through.
abstract contract PoolRounds is PoolStaking {
    using SafeERC20 for IERC20;

    struct Dispute {
        address arbitrable;
        uint8 round; // index of the current round
        uint8 ruling; // of the last tally
        bool tied;
        bool isFinal;
        bool delivered;
        bool paid; // the panels of every round are paid (deferred while a draw is pending)
    }

    struct Round {
        uint56 fee; // up to 7.2e16 token units
        uint40 drawBy; // after this an undrawn round lapses (see executeRuling)
        uint8 panelSize;
        uint16 commitMinutes; // the phase lengths the round opened with; governance cannot change them
        uint16 revealMinutes;
        uint16 appealMinutes;
        uint8[3] votes;
        uint40 commitEnd; // 0 until drawn
        uint40 revealEnd;
        uint40 appealEnd; // 0 until tallied
        uint64 next; // key of the round that requested randomness after this one, in the draw queue
        bool seedRecorded; // `seed` was read within the randomness window and is used whatever happens
        uint256 randomnessRequest;
        uint256 seed;
        address[] panel;
    }

    /// @inheritdoc IArbitrationPool
    uint8 public constant FIRST_PANEL = 3;
    /// @inheritdoc IArbitrationPool
    uint40 public constant DRAW_TIMEOUT = 1 days;
    /// @inheritdoc IArbitrationPool
    uint8 public constant MAX_ROUNDS = 4;
    /// @inheritdoc IArbitrationPool
    uint16 public constant MIN_PHASE_MINUTES = 10;
    /// @inheritdoc IArbitrationPool
    uint16 public constant MAX_PHASE_MINUTES = 2 days / 1 minutes;

    uint256 internal constant CHOICES = 2;
    // A vote slot holds 0 (not drawn), DRAWN, a commitment, or REVEALED + choice.
    uint256 internal constant DRAWN = 1;
    uint256 internal constant REVEALED = 2;
    uint256 internal constant RESERVED = REVEALED + CHOICES; // commitments must be above this

    /// @inheritdoc IArbitrationPool
    IRandomnessSource public immutable randomness;
    /// @inheritdoc IArbitrationPool
    uint8 public immutable maxRounds;
    /// @inheritdoc IArbitrationPool
    address public immutable reserveArbitrable;

    /// @inheritdoc IArbitrationPool
    Parameters public parameters;
    /// @inheritdoc IArbitrationPool
    uint256 public rewardReserve;

    uint256 private _disputeCount;
    mapping(uint256 disputeId => Dispute) internal _disputes;
    mapping(uint256 disputeId => mapping(uint256 round => Round)) internal _rounds;
    mapping(uint256 disputeId => mapping(uint256 round => mapping(address arbitrator => uint256))) internal _votes;

    constructor(
        IRandomnessSource randomness_,
        uint8 maxRounds_,
        Parameters memory parameters_,
        address reserveArbitrable_
    ) {
        if (maxRounds_ == 0 || maxRounds_ > MAX_ROUNDS) revert RoundsOutOfBounds(maxRounds_, MAX_ROUNDS);
        randomness = randomness_;
        maxRounds = maxRounds_;
        reserveArbitrable = reserveArbitrable_;
        _setParameters(parameters_);
    }

    /// @inheritdoc IArbitratorV2
    function createDispute(uint256 choices, bytes calldata extraData, IERC20 feeToken, uint256 feeAmount)
        external
        nonReentrant
        returns (uint256 disputeId)
    {
        if (choices != CHOICES) revert UnsupportedChoices(choices);
        uint256 cost = arbitrationCost(extraData, feeToken);
        if (feeAmount < cost) revert FeeNotAccepted(address(feeToken), feeAmount, cost);
        disputeId = ++_disputeCount;
        _disputes[disputeId].arbitrable = msg.sender;
        emit DisputeCreation(disputeId, IArbitrableV2(msg.sender));
        uint256 reserve = 0;
        if (msg.sender == reserveArbitrable) {
            reserve = rewardReserve;
            rewardReserve = 0;
        }
        _openRound(disputeId, 0, FIRST_PANEL, feeAmount + reserve);
        token.safeTransferFrom(msg.sender, address(this), feeAmount);
    }

    /// @inheritdoc IArbitratorV2
    function appeal(uint256 disputeId) external nonReentrant {
        Dispute storage d = _disputes[disputeId];
        if (msg.sender != d.arbitrable) revert NotArbitrable(disputeId, msg.sender);
        _requirePhase(disputeId, RoundPhase.Appealable);
        uint256 round = d.round;
        Round storage r = _rounds[disputeId][round];
        if (round + 1 >= maxRounds) revert NoMoreAppeals(disputeId, maxRounds);
        if (block.timestamp > r.appealEnd) revert WrongPhase(disputeId, RoundPhase.Final, RoundPhase.Appealable);
        uint256 cost = appealCost(disputeId);
        d.round = uint8(round + 1);
        emit AppealDecision(disputeId, IArbitrableV2(msg.sender));
        _openRound(disputeId, round + 1, 2 * r.panelSize + 1, cost);
        token.safeTransferFrom(msg.sender, address(this), cost);
    }

    /// @inheritdoc IArbitrationPool
    function fundRewards(uint256 amount) external nonReentrant {
        rewardReserve += amount;
        emit RewardsFunded(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IArbitrationPool
    function draw(uint256 disputeId) external nonReentrant {
        _requirePhase(disputeId, RoundPhase.Drawing);
        uint256 round = _disputes[disputeId].round;
        Round storage r = _rounds[disputeId][round];
        if (block.timestamp > r.drawBy) revert DrawTooLate(disputeId, r.drawBy);
        _requireTurn(disputeId, round);
        (bool known, uint256 seed) = _seed(disputeId, round, r);
        if (!known) return; // expired and asked again; the round keeps its place and the tree stays frozen
        uint256 needed = r.panelSize;
        (address[] memory seated, uint256 drawn) = _sortition(seed, disputeId, round, needed);
        if (drawn < needed) revert NotEnoughArbitrators(disputeId, drawn, needed);
        DrawQueue memory q = _draws;
        (q.pending, q.head) = (q.pending - 1, r.next);
        if (q.head == 0) q.tail = 0;
        _draws = q;
        uint40 commitEnd = uint40(block.timestamp) + uint40(r.commitMinutes) * 60;
        uint40 revealEnd = commitEnd + uint40(r.revealMinutes) * 60;
        r.commitEnd = commitEnd;
        r.revealEnd = revealEnd;
        r.panel = seated; // all `needed` seats; writes the length once instead of a push per seat
        mapping(address => uint256) storage votes = _votes[disputeId][round];
        for (uint256 i = 0; i < needed; ++i) {
            address arbitrator = seated[i];
            votes[arbitrator] = DRAWN;
            emit Drawn(disputeId, round, arbitrator, commitEnd, revealEnd);
        }
    }

    /// @inheritdoc IArbitrationPool
    function recordSeed(uint256 disputeId) external nonReentrant {
        _requirePhase(disputeId, RoundPhase.Drawing);
        uint256 round = _disputes[disputeId].round;
        Round storage r = _rounds[disputeId][round];
        if (r.seedRecorded) revert SeedAlreadyRecorded(disputeId, round);
        (bool known, uint256 seed) = _seed(disputeId, round, r);
        if (!known) return;
        (r.seed, r.seedRecorded) = (seed, true);
        emit SeedRecorded(disputeId, round, r.randomnessRequest);
    }

    /// @inheritdoc IArbitrationPool
    function setParameters(Parameters calldata parameters_) external onlyOwner {
        _setParameters(parameters_);
    }

    /// @inheritdoc IArbitratorV2
    function arbitrationCost(bytes calldata, IERC20 feeToken) public view returns (uint256) {
        if (feeToken != token) revert FeeNotAccepted(address(feeToken), 0, 0);
        return uint256(parameters.feePerArbitrator) * FIRST_PANEL;
    }

    /// @inheritdoc IArbitratorV2
    function appealCost(uint256 disputeId) public view returns (uint256) {
        Dispute storage d = _disputes[disputeId];
        return uint256(parameters.feePerArbitrator) * (2 * uint256(_rounds[disputeId][d.round].panelSize) + 1);
    }

    /// @inheritdoc IArbitratorV2
    function currentRuling(uint256 disputeId) external view returns (uint256, bool, bool) {
        Dispute storage d = _disputes[disputeId];
        return (d.ruling, d.tied, false);
    }

    /// @inheritdoc IArbitrationPool
    function phase(uint256 disputeId) public view returns (RoundPhase) {
        Dispute storage d = _disputes[disputeId];
        if (d.arbitrable == address(0)) return RoundPhase.None;
        if (d.isFinal) return RoundPhase.Final;
        Round storage r = _rounds[disputeId][d.round];
        if (r.commitEnd == 0) return RoundPhase.Drawing;
        if (block.timestamp <= r.commitEnd) return RoundPhase.Commit;
        if (block.timestamp <= r.revealEnd) return RoundPhase.Reveal;
        if (r.appealEnd == 0) return RoundPhase.Tally;
        return RoundPhase.Appealable;
    }

    /// @inheritdoc IArbitrationPool
    function roundOf(uint256 disputeId, uint256 round) external view returns (RoundView memory) {
        Round storage r = _rounds[disputeId][round];
        return RoundView(
            r.fee, r.panelSize, r.votes, r.drawBy, r.commitEnd, r.revealEnd, r.appealEnd, r.panel
        );
    }

    function _requirePhase(uint256 disputeId, RoundPhase expected) internal view {
        RoundPhase actual = phase(disputeId);
        if (actual != expected) revert WrongPhase(disputeId, actual, expected);
    }

    /// @dev Reverts unless every round that requested randomness before this one is drawn, final, or
    /// past its drawBy: draws lock stake, so their order must not be anyone's choice. Moves the head
    /// of the queue over those it passes.
    function _requireTurn(uint256 disputeId, uint256 round) private {
        uint64 key = _key(disputeId, round);
        uint64 head = _draws.head;
        while (head != key) {
            (uint256 id, uint256 n) = (head >> 8, head & 0xff);
            Round storage h = _rounds[id][n];
            if (h.commitEnd == 0 && !_disputes[id].isFinal && block.timestamp <= h.drawBy) {
                revert DrawOutOfOrder(disputeId, id, n);
            }
            head = h.next;
        }
        _draws.head = head;
    }

    /// @dev The round's seed: the recorded one, else the source's answer. An expired request is
    /// announced and asked again (`known` false): only when nobody drew or recorded the seed in time.
    function _seed(uint256 disputeId, uint256 round, Round storage r) private returns (bool known, uint256 seed) {
        if (r.seedRecorded) return (true, r.seed);
        uint256 request = r.randomnessRequest;
        (bool ready, bool expired, uint256 value) = randomness.result(request);
        if (expired) {
            emit RandomnessExpired(disputeId, round, request);
            // The randomness source is immutable; its id is only known from the call.
            // slither-disable-next-line reentrancy-no-eth,reentrancy-events
            request = randomness.request();
            r.randomnessRequest = request;
            emit RandomnessRequested(disputeId, round, request);
            return (false, 0);
        }
        if (!ready) revert RandomnessNotReady(disputeId, request);
        return (true, value);
    }

    /// @dev A round's place in the draw queue: dispute ids stay far below 2**56.
    function _key(uint256 disputeId, uint256 round) private pure returns (uint64) {
        return uint64(disputeId << 8 | round);
    }

    function _openRound(uint256 disputeId, uint256 round, uint256 panelSize, uint256 fee) private {
        Round storage r = _rounds[disputeId][round];
        r.fee = SafeCast.toUint56(fee);
        uint40 drawBy = uint40(block.timestamp) + DRAW_TIMEOUT;
        r.drawBy = drawBy;
        uint64 key = _key(disputeId, round);
        DrawQueue memory q = _draws;
        if (q.tail == 0) q.head = key;
        else _rounds[q.tail >> 8][q.tail & 0xff].next = key;
        (q.tail, q.pending, q.frozenUntil) = (key, q.pending + 1, drawBy);
        _draws = q;
        r.panelSize = uint8(panelSize);
        Parameters memory p = parameters;
        (r.commitMinutes, r.revealMinutes, r.appealMinutes) = (p.commitMinutes, p.revealMinutes, p.appealMinutes);
        // The randomness source is immutable; its id is only known from the call.
        // slither-disable-next-line reentrancy-no-eth
        uint256 request = randomness.request();
        r.randomnessRequest = request;
        emit RandomnessRequested(disputeId, round, request);
    }

    function _setParameters(Parameters memory p) private {
        _requirePhaseLength(p.commitMinutes);
        _requirePhaseLength(p.revealMinutes);
        _requirePhaseLength(p.appealMinutes);
        parameters = p;
        emit ParametersChanged(p.feePerArbitrator, p.commitMinutes, p.revealMinutes, p.appealMinutes);
    }

    function _requirePhaseLength(uint16 minutes_) private pure {
        if (minutes_ < MIN_PHASE_MINUTES || minutes_ > MAX_PHASE_MINUTES) {
            revert PhaseLengthOutOfBounds(minutes_, MIN_PHASE_MINUTES, MAX_PHASE_MINUTES);
        }
    }
}
