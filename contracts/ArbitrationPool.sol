// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IArbitrableV2} from "./interfaces/IArbitrableV2.sol";
import {IArbitrationPool, RoundPhase, RoundView} from "./interfaces/IArbitrationPool.sol";
import {IArbitratorV2} from "./interfaces/IArbitratorV2.sol";
import {IRandomnessSource} from "./interfaces/IRandomnessSource.sol";
import {SortitionTree} from "./libraries/SortitionTree.sol";

/// @title ArbitrationPool
/// @notice Bonded arbitrators decide disputes of support tickets; see {IArbitrationPool}.
contract ArbitrationPool is IArbitrationPool, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SortitionTree for SortitionTree.Tree;

    /// @notice Size of the first panel; each appeal draws 2n + 1.
    uint8 public constant FIRST_PANEL = 3;
    /// @notice Gas given to the arbitrable's `rule`, so a callback that burns gas cannot jam execution.
    uint256 public constant RULE_CALLBACK_GAS = 300_000;

    uint256 private constant CHOICES = 2;
    // A vote slot holds 0 (not drawn), DRAWN, a commitment, or REVEALED + choice.
    uint256 private constant DRAWN = 1;
    uint256 private constant REVEALED = 2;
    uint256 private constant RESERVED = REVEALED + CHOICES; // commitments must be above this
    uint256 private constant DRAW_ATTEMPTS_PER_SEAT = 8;

    /// @notice A round whose panel cannot be drawn for this long lapses: an appeal round falls back
    /// to the previous ruling (its fee goes to the previous panel); a first round rules 0.
    uint40 public constant DRAW_TIMEOUT = 1 days;

    /// @notice The staking and fee token.
    IERC20 public immutable token;
    /// @notice Where draws get their randomness.
    IRandomnessSource public immutable randomness;
    /// @notice Least stake an arbitrator may hold (0 aside, which means leaving).
    uint96 public immutable minStake;
    /// @notice Most stake one arbitrator may hold, so that no one dominates draws.
    uint96 public immutable maxStake;
    /// @notice Stake locked per seat drawn; lost when voting against the final ruling or not revealing.
    uint96 public immutable lockPerDraw;
    /// @notice Seconds between `requestUnstake` and `withdraw`.
    uint40 public immutable unstakeDelay;
    /// @notice Rounds a dispute may have; the last round's ruling is final.
    uint8 public immutable maxRounds;

    struct Parameters {
        uint96 feePerArbitrator; // token units per seat of a panel
        uint16 commitMinutes;
        uint16 revealMinutes;
        uint16 appealMinutes;
    }

    /// @dev One slot, so that paying a panel member touches only the slot its lock already did.
    struct Arbitrator {
        uint96 stake; // drawable weight, in the tree
        uint64 locked; // part of `stake` locked by draws in live disputes
        uint24 slot; // position in the sortition tree, kept for life
        uint72 rewards; // earned and not yet withdrawn
    }

    struct Unstaking {
        uint96 amount;
        uint40 unlockAt;
    }

    struct Dispute {
        address arbitrable;
        uint8 round; // index of the current round
        uint8 ruling; // of the last tally
        bool tied;
        bool isFinal;
        bool delivered;
    }

    struct Round {
        uint56 fee; // up to 7.2e16 token units
        uint40 drawBy; // after this an undrawn round lapses (see executeRuling)
        uint8 panelSize;
        uint8[3] votes;
        uint40 commitEnd; // 0 until drawn
        uint40 revealEnd;
        uint40 appealEnd; // 0 until tallied
        uint256 randomnessRequest;
        address[] panel;
    }

    /// @notice Fee and phase durations (governance).
    Parameters public parameters;
    /// @notice Funds waiting to top up the next dispute's first panel.
    uint256 public rewardReserve;

    uint256 private _disputeCount;
    uint24 private _slotCount;
    SortitionTree.Tree private _tree;
    mapping(address arbitrator => Arbitrator) private _arbitrators;
    mapping(uint256 slot => address) private _slotOwner;
    mapping(address arbitrator => Unstaking) private _unstaking;
    mapping(address account => uint256) private _governanceRewards; // rewards nobody on a panel earned
    mapping(uint256 disputeId => Dispute) private _disputes;
    mapping(uint256 disputeId => mapping(uint256 round => Round)) private _rounds;
    mapping(uint256 disputeId => mapping(uint256 round => mapping(address arbitrator => uint256))) private _votes;

    constructor(
        IERC20 token_,
        IRandomnessSource randomness_,
        address governance,
        uint96 minStake_,
        uint96 maxStake_,
        uint96 lockPerDraw_,
        uint40 unstakeDelay_,
        uint8 maxRounds_,
        Parameters memory parameters_
    ) Ownable(governance) {
        if (maxStake_ > type(uint64).max || minStake_ < lockPerDraw_ || lockPerDraw_ == 0) {
            revert StakeOutOfBounds(address(0), lockPerDraw_, minStake_, maxStake_);
        }
        token = token_;
        randomness = randomness_;
        minStake = minStake_;
        maxStake = maxStake_;
        lockPerDraw = lockPerDraw_;
        unstakeDelay = unstakeDelay_;
        maxRounds = maxRounds_;
        _setParameters(parameters_);
    }

    /// @inheritdoc IArbitrationPool
    function stake(uint256 amount) external nonReentrant {
        Arbitrator storage a = _arbitrators[msg.sender];
        uint256 staked = a.stake + amount;
        if (staked < minStake || staked > maxStake) revert StakeOutOfBounds(msg.sender, staked, minStake, maxStake);
        uint24 slot = a.slot;
        if (slot == 0) {
            slot = ++_slotCount;
            a.slot = slot;
            _slotOwner[slot] = msg.sender;
        }
        a.stake = uint96(staked);
        _tree.add(slot, amount);
        emit StakeChanged(msg.sender, staked);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IArbitrationPool
    function requestUnstake(uint256 amount) external nonReentrant {
        Arbitrator storage a = _arbitrators[msg.sender];
        if (a.locked != 0) revert StakeLockedInDispute(msg.sender, a.locked);
        if (amount == 0 || amount > a.stake) revert StakeOutOfBounds(msg.sender, amount, 1, a.stake);
        uint256 left = a.stake - amount;
        if (left != 0 && left < minStake) revert StakeOutOfBounds(msg.sender, left, minStake, maxStake);
        a.stake = uint96(left);
        _tree.sub(a.slot, amount);
        Unstaking storage u = _unstaking[msg.sender];
        u.amount += uint96(amount);
        u.unlockAt = uint40(block.timestamp) + unstakeDelay;
        emit StakeChanged(msg.sender, left);
        emit UnstakeRequested(msg.sender, amount, u.unlockAt);
    }

    /// @inheritdoc IArbitrationPool
    function withdraw() external nonReentrant returns (uint256 amount) {
        Unstaking memory u = _unstaking[msg.sender];
        Arbitrator storage a = _arbitrators[msg.sender];
        amount = a.rewards + _governanceRewards[msg.sender];
        a.rewards = 0;
        _governanceRewards[msg.sender] = 0;
        if (u.amount != 0 && block.timestamp >= u.unlockAt) {
            amount += u.amount;
            delete _unstaking[msg.sender];
        }
        if (amount == 0) revert NothingToWithdraw(msg.sender, u.unlockAt);
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
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
        uint256 reserve = rewardReserve;
        rewardReserve = 0;
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
        (bool ready, bool expired, uint256 seed) = randomness.result(r.randomnessRequest);
        if (expired) {
            r.randomnessRequest = randomness.request();
            emit RandomnessRequested(disputeId, round, r.randomnessRequest);
            return;
        }
        if (!ready) revert RandomnessNotReady(disputeId, r.randomnessRequest);
        uint256 needed = r.panelSize;
        uint256 drawn = _drawPanel(disputeId, round, seed, needed);
        if (drawn < needed) revert NotEnoughArbitrators(disputeId, drawn, needed);
        Parameters memory p = parameters;
        uint40 commitEnd = uint40(block.timestamp) + uint40(p.commitMinutes) * 60;
        r.commitEnd = commitEnd;
        r.revealEnd = commitEnd + uint40(p.revealMinutes) * 60;
    }

    /// @inheritdoc IArbitrationPool
    function commit(uint256 disputeId, bytes32 commitment) external nonReentrant {
        _requirePhase(disputeId, RoundPhase.Commit);
        if (uint256(commitment) <= RESERVED) revert InvalidCommitment(commitment);
        uint256 round = _disputes[disputeId].round;
        mapping(address => uint256) storage votes = _votes[disputeId][round];
        if (votes[msg.sender] != DRAWN) revert NotOnPanel(disputeId, msg.sender);
        votes[msg.sender] = uint256(commitment);
        emit VoteCommitted(disputeId, round, msg.sender);
    }

    /// @inheritdoc IArbitrationPool
    function reveal(uint256 disputeId, uint256 choice, bytes32 salt) external nonReentrant {
        _requirePhase(disputeId, RoundPhase.Reveal);
        if (choice > CHOICES) revert InvalidChoice(choice);
        uint256 round = _disputes[disputeId].round;
        mapping(address => uint256) storage votes = _votes[disputeId][round];
        uint256 vote = votes[msg.sender];
        if (vote <= RESERVED) revert NotOnPanel(disputeId, msg.sender);
        if (bytes32(vote) != commitmentOf(disputeId, round, msg.sender, choice, salt)) {
            revert CommitmentMismatch(disputeId, msg.sender);
        }
        votes[msg.sender] = REVEALED + choice;
        ++_rounds[disputeId][round].votes[choice];
        emit VoteRevealed(disputeId, round, msg.sender, choice);
    }

    /// @inheritdoc IArbitrationPool
    function tally(uint256 disputeId) external nonReentrant {
        _requirePhase(disputeId, RoundPhase.Tally);
        Dispute storage d = _disputes[disputeId];
        Round storage r = _rounds[disputeId][d.round];
        (uint8 ruling, bool tied) = _majority(r.votes);
        d.ruling = ruling;
        d.tied = tied;
        bool last = d.round + 1 >= maxRounds;
        uint40 appealEnd = uint40(block.timestamp) + (last ? 0 : uint40(parameters.appealMinutes) * 60);
        r.appealEnd = appealEnd;
        emit Tallied(disputeId, d.round, ruling, tied, appealEnd);
    }

    /// @inheritdoc IArbitrationPool
    function executeRuling(uint256 disputeId) external nonReentrant {
        Dispute storage d = _disputes[disputeId];
        Round storage r = _rounds[disputeId][d.round];
        RoundPhase current = phase(disputeId);
        if (current == RoundPhase.Drawing && block.timestamp > r.drawBy) {
            _lapse(disputeId, d, r);
        } else if (current != RoundPhase.Appealable) {
            revert WrongPhase(disputeId, current, RoundPhase.Appealable);
        } else if (block.timestamp <= r.appealEnd && d.round + 1 < maxRounds) {
            revert WrongPhase(disputeId, RoundPhase.Appealable, RoundPhase.Final);
        }
        d.isFinal = true;
        uint256 ruling = d.ruling;
        for (uint256 round = 0; round <= d.round; ++round) {
            _payRound(disputeId, round, ruling, d.tied);
        }
        emit Ruling(IArbitrableV2(d.arbitrable), disputeId, ruling);
        _deliver(disputeId, d);
    }

    /// @inheritdoc IArbitrationPool
    function deliverRuling(uint256 disputeId) external nonReentrant {
        _requirePhase(disputeId, RoundPhase.Final);
        Dispute storage d = _disputes[disputeId];
        if (d.delivered) revert AlreadyDelivered(disputeId);
        _deliver(disputeId, d);
    }

    /// @notice Sets the fee per seat and the phase durations for rounds opened from now on. Governance only.
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

    /// @inheritdoc IArbitrationPool
    function commitmentOf(uint256 disputeId, uint256 round, address arbitrator, uint256 choice, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(disputeId, round, arbitrator, choice, salt));
    }

    /// @notice `arbitrator`'s stake, locked part and unstaking record.
    function arbitratorOf(address arbitrator)
        external
        view
        returns (uint256 staked, uint256 locked, uint256 unstaking, uint40 unlockAt, uint256 rewards)
    {
        Arbitrator memory a = _arbitrators[arbitrator];
        Unstaking memory u = _unstaking[arbitrator];
        return (a.stake, a.locked, u.amount, u.unlockAt, a.rewards + _governanceRewards[arbitrator]);
    }

    /// @notice The sum of all drawable stake.
    function totalStake() external view returns (uint256) {
        return _tree.total();
    }

    /// @dev Samples without replacement, weighted by stake: every candidate, seated or without
    /// enough free stake, has its interval cut out of the range the next point is drawn from, so no
    /// draw is wasted on someone already seen. Cut intervals are kept sorted by start, and a point
    /// in the reduced range maps back to the full range by stepping over them.
    function _drawPanel(uint256 disputeId, uint256 round, uint256 seed, uint256 needed)
        private
        returns (uint256 drawn)
    {
        Round storage r = _rounds[disputeId][round];
        uint256 remaining = _tree.total();
        uint256 maxCuts = needed * DRAW_ATTEMPTS_PER_SEAT;
        uint256[] memory cutStart = new uint256[](maxCuts);
        uint256[] memory cutWeight = new uint256[](maxCuts);
        uint256 cuts = 0;
        while (drawn < needed && remaining != 0 && cuts < maxCuts) {
            uint256 point = uint256(keccak256(abi.encode(seed, disputeId, round, cuts))) % remaining;
            for (uint256 k = 0; k < cuts && cutStart[k] <= point; ++k) {
                point += cutWeight[k];
            }
            (uint256 slot, uint256 start) = _tree.find(point);
            address candidate = _slotOwner[slot];
            Arbitrator storage a = _arbitrators[candidate];
            uint256 weight = a.stake;
            uint256 k = cuts++;
            while (k > 0 && cutStart[k - 1] > start) {
                (cutStart[k], cutWeight[k]) = (cutStart[k - 1], cutWeight[k - 1]);
                --k;
            }
            (cutStart[k], cutWeight[k]) = (start, weight);
            remaining -= weight;
            if (a.stake - a.locked < lockPerDraw) continue;
            a.locked += uint64(lockPerDraw);
            _votes[disputeId][round][candidate] = DRAWN;
            r.panel.push(candidate);
            ++drawn;
            emit Drawn(disputeId, round, candidate);
        }
    }

    function _openRound(uint256 disputeId, uint256 round, uint256 panelSize, uint256 fee) private {
        Round storage r = _rounds[disputeId][round];
        r.fee = SafeCast.toUint56(fee);
        r.drawBy = uint40(block.timestamp) + DRAW_TIMEOUT;
        r.panelSize = uint8(panelSize);
        // The randomness source is immutable; its id is only known from the call.
        // slither-disable-next-line reentrancy-no-eth
        uint256 request = randomness.request();
        r.randomnessRequest = request;
        emit RandomnessRequested(disputeId, round, request);
    }

    /// @dev A round nobody could be drawn for: an appeal falls back to the ruling it appealed, and
    /// its fee joins the previous round's; a first round rules 0 and, with no panel, its fee goes to
    /// governance in `_payRound`.
    function _lapse(uint256 disputeId, Dispute storage d, Round storage r) private {
        if (d.round == 0) {
            d.ruling = 0;
            d.tied = true;
            return;
        }
        uint56 fee = r.fee;
        r.fee = 0;
        d.round -= 1;
        _rounds[disputeId][d.round].fee += fee;
    }

    /// @dev Voters with the final ruling share the round's fee and the stake lost by the others;
    /// the first of them takes the rounding dust. With none, governance receives it all.
    function _payRound(uint256 disputeId, uint256 round, uint256 ruling, bool tied) private {
        Round storage r = _rounds[disputeId][round];
        address[] storage panel = r.panel;
        uint256 n = panel.length;
        uint64 lock = uint64(lockPerDraw);
        uint256 pot = r.fee;
        uint256 coherent = 0;
        for (uint256 i = 0; i < n; ++i) {
            address arbitrator = panel[i];
            Arbitrator storage a = _arbitrators[arbitrator];
            a.locked -= lock;
            if (_coherent(_votes[disputeId][round][arbitrator], ruling, tied)) {
                ++coherent;
            } else {
                a.stake -= lock;
                _tree.sub(a.slot, lock);
                pot += lock;
                emit Penalized(disputeId, arbitrator, lock);
            }
        }
        if (coherent == 0) {
            address governance = owner();
            _governanceRewards[governance] += pot;
            emit Rewarded(disputeId, governance, pot);
            return;
        }
        uint256 share = pot / coherent;
        uint256 dust = pot % coherent;
        for (uint256 i = 0; i < n; ++i) {
            address arbitrator = panel[i];
            if (!_coherent(_votes[disputeId][round][arbitrator], ruling, tied)) continue;
            _arbitrators[arbitrator].rewards += uint72(share + dust);
            emit Rewarded(disputeId, arbitrator, share + dust);
            dust = 0;
        }
    }

    /// @dev With the final ruling, or any revealed vote when it was a tie: a tie is nobody's fault.
    function _coherent(uint256 vote, uint256 ruling, bool tied) private pure returns (bool) {
        return vote == REVEALED + ruling || (tied && vote >= REVEALED && vote <= RESERVED);
    }

    /// @dev The ruling is recorded before this call; a reverting or gas-burning callback only
    /// leaves `delivered` false, and anyone may retry.
    function _deliver(uint256 disputeId, Dispute storage d) private {
        if (d.arbitrable.code.length == 0) {
            // Nothing to call: the Ruling event is the delivery (`try` would not catch this case).
            d.delivered = true;
            emit RulingDelivered(disputeId);
            return;
        }
        // Read-only reentrancy from the callback sees a final dispute; every writer is nonReentrant.
        // slither-disable-next-line reentrancy-no-eth
        try IArbitrableV2(d.arbitrable).rule{gas: RULE_CALLBACK_GAS}(disputeId, d.ruling) {
            d.delivered = true;
            emit RulingDelivered(disputeId);
        } catch {
            emit RulingDeliveryFailed(disputeId);
        }
    }

    function _setParameters(Parameters memory p) private {
        parameters = p;
        emit ParametersChanged(p.feePerArbitrator, p.commitMinutes, p.revealMinutes, p.appealMinutes);
    }

    function _requirePhase(uint256 disputeId, RoundPhase expected) private view {
        RoundPhase actual = phase(disputeId);
        if (actual != expected) revert WrongPhase(disputeId, actual, expected);
    }

    /// @dev Plurality of revealed votes; a tie for the top, or no votes, rules 0 (split).
    function _majority(uint8[3] storage votes) private view returns (uint8 ruling, bool tied) {
        uint8 best = 0;
        for (uint8 choice = 0; choice <= CHOICES; ++choice) {
            uint8 count = votes[choice];
            if (count > best) {
                best = count;
                ruling = choice;
                tied = false;
            } else if (count == best) {
                tied = true;
            }
        }
        if (tied) ruling = 0;
    }
}
