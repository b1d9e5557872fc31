// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IArbitrationPool} from "../interfaces/IArbitrationPool.sol";
import {SortitionTree} from "../libraries/SortitionTree.sol";

/// @title PoolStaking
/// @notice The pool's arbitrators and their money: stakes between a minimum and a maximum, delayed
/// unstaking, locks taken by draws, rewards and withdrawals; and sortition, the stake-weighted draw
/// of distinct arbitrators from a Fenwick tree.
abstract contract PoolStaking is IArbitrationPool, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SortitionTree for SortitionTree.Tree;

    /// @dev One slot, so that paying a panel member touches only the slot its lock already did.
    struct Arbitrator {
        uint96 stake; // drawable weight, in the tree
        uint64 locked; // part of `stake` locked by draws in live disputes
        uint24 slot; // position in the sortition tree, kept for life
        uint72 rewards; // earned and not yet withdrawn
    }

    /// @dev One slot: stake leaving the pool, and changes queued while a draw was pending.
    struct Pending {
        uint96 unstaking; // leaving the pool; out of the tree unless `unstakeQueued`
        uint40 unlockAt; // withdrawable from then; 0 while queued
        bool unstakeQueued; // requested while a draw was pending: still in the tree and drawable
        uint96 stakeQueued; // staked while a draw was pending: held here, not in the tree yet
    }

    /// @dev One slot: the rounds waiting for their draw, a FIFO linked through `Round.next`.
    struct DrawQueue {
        uint64 pending; // rounds whose randomness is requested and whose panel is not drawn
        uint64 head; // key (disputeId << 8 | round) of the first round that may still be drawn
        uint64 tail; // key of the round that requested randomness last; 0 when the queue is empty
        uint40 frozenUntil; // drawBy of the last round requested: nothing can be drawn after it
    }

    uint256 private constant DRAW_ATTEMPTS_PER_SEAT = 8;

    /// @inheritdoc IArbitrationPool
    IERC20 public immutable token;
    /// @inheritdoc IArbitrationPool
    uint96 public immutable minStake;
    /// @inheritdoc IArbitrationPool
    uint96 public immutable maxStake;
    /// @inheritdoc IArbitrationPool
    uint96 public immutable lockPerDraw;
    /// @inheritdoc IArbitrationPool
    uint40 public immutable unstakeDelay;

    uint24 private _slotCount;
    SortitionTree.Tree private _tree;
    mapping(address arbitrator => Arbitrator) private _arbitrators;
    mapping(uint256 slot => address) private _slotOwner;
    mapping(address arbitrator => Pending) private _pending;
    DrawQueue internal _draws;

    constructor(
        IERC20 token_,
        address governance,
        uint96 minStake_,
        uint96 maxStake_,
        uint96 lockPerDraw_,
        uint40 unstakeDelay_
    ) Ownable(governance) {
        if (maxStake_ > type(uint64).max || minStake_ > maxStake_ || minStake_ < lockPerDraw_ || lockPerDraw_ == 0) {
            revert StakeOutOfBounds(address(0), lockPerDraw_, minStake_, maxStake_);
        }
        token = token_;
        minStake = minStake_;
        maxStake = maxStake_;
        lockPerDraw = lockPerDraw_;
        unstakeDelay = unstakeDelay_;
    }

    /// @inheritdoc IArbitrationPool
    function stake(uint256 amount) external nonReentrant {
        Arbitrator storage a = _arbitrators[msg.sender];
        Pending storage p = _pending[msg.sender];
        bool frozen = _frozen();
        if (!frozen) _applyQueued(msg.sender, a, p);
        uint256 staked = a.stake + p.stakeQueued + amount;
        if (staked < minStake || staked > maxStake) revert StakeOutOfBounds(msg.sender, staked, minStake, maxStake);
        if (frozen) {
            p.stakeQueued += uint96(amount);
            emit StakeQueued(msg.sender, amount, staked);
        } else {
            _addStake(msg.sender, a, amount);
        }
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IArbitrationPool
    function requestUnstake(uint256 amount) external nonReentrant {
        Arbitrator storage a = _arbitrators[msg.sender];
        Pending storage p = _pending[msg.sender];
        bool frozen = _frozen();
        if (!frozen) _applyQueued(msg.sender, a, p);
        if (a.locked != 0) revert StakeLockedInDispute(msg.sender, a.locked);
        if (p.unstaking != 0) revert UnstakePending(msg.sender, p.unstaking, p.unlockAt);
        if (amount == 0 || amount > a.stake) revert StakeOutOfBounds(msg.sender, amount, 1, a.stake);
        uint256 left = a.stake - amount;
        if (left != 0 && left < minStake) revert StakeOutOfBounds(msg.sender, left, minStake, maxStake);
        p.unstaking = uint96(amount);
        if (frozen) {
            p.unstakeQueued = true;
            emit UnstakeQueued(msg.sender, amount);
            return;
        }
        _leave(msg.sender, a, p, amount);
    }

    /// @inheritdoc IArbitrationPool
    function applyQueuedStakes(address[] calldata arbitrators) external nonReentrant {
        _requireNoPendingDraw();
        for (uint256 i = 0; i < arbitrators.length; ++i) {
            address arbitrator = arbitrators[i];
            _applyQueued(arbitrator, _arbitrators[arbitrator], _pending[arbitrator]);
        }
    }

    /// @inheritdoc IArbitrationPool
    function withdraw() external nonReentrant returns (uint256 amount) {
        Pending storage p = _pending[msg.sender];
        Arbitrator storage a = _arbitrators[msg.sender];
        if (!_frozen()) _applyQueued(msg.sender, a, p);
        amount = a.rewards;
        a.rewards = 0;
        uint40 unlockAt = p.unlockAt;
        if (p.unstaking != 0 && !p.unstakeQueued && block.timestamp >= unlockAt) {
            amount += p.unstaking;
            (p.unstaking, p.unlockAt) = (0, 0);
        }
        if (amount == 0) revert NothingToWithdraw(msg.sender, unlockAt);
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IArbitrationPool
    function arbitratorOf(address arbitrator)
        external
        view
        returns (uint256 staked, uint256 locked, uint256 unstaking, uint40 unlockAt, uint256 rewards)
    {
        Arbitrator memory a = _arbitrators[arbitrator];
        Pending memory p = _pending[arbitrator];
        return (a.stake, a.locked, p.unstakeQueued ? 0 : p.unstaking, p.unlockAt, a.rewards);
    }

    /// @inheritdoc IArbitrationPool
    function queuedOf(address arbitrator) external view returns (uint256 stakeIn, uint256 unstakeOut) {
        Pending memory p = _pending[arbitrator];
        return (p.stakeQueued, p.unstakeQueued ? p.unstaking : 0);
    }

    /// @inheritdoc IArbitrationPool
    function pendingDraws() external view returns (uint256) {
        return _frozen() ? _draws.pending : 0;
    }

    /// @inheritdoc IArbitrationPool
    function totalStake() external view returns (uint256) {
        return _tree.total();
    }

    /// @dev Draws up to `needed` distinct arbitrators with free stake, locks `lockPerDraw` of each
    /// and returns them, in the order drawn, as the first `drawn` entries of `seated`. Point i is
    /// keccak256(seed, disputeId, round, i) modulo the weight not yet seen: sampling is without
    /// replacement, weighted by stake. Every candidate, seated or without enough free stake, has its
    /// interval cut out of the range the next point is drawn from, so no draw is wasted on someone
    /// already seen; cut intervals are kept sorted by start, and a point in the reduced range maps
    /// back to the full range by stepping over them. Gives up after `DRAW_ATTEMPTS_PER_SEAT` points
    /// per seat.
    function _sortition(uint256 seed, uint256 disputeId, uint256 round, uint256 needed)
        internal
        returns (address[] memory seated, uint256 drawn)
    {
        seated = new address[](needed);
        uint256 remaining = _tree.total();
        uint256 maxCuts = needed * DRAW_ATTEMPTS_PER_SEAT;
        uint256[] memory cutStart = new uint256[](maxCuts);
        uint256[] memory cutWeight = new uint256[](maxCuts);
        uint256 cuts = 0;
        while (drawn < needed && remaining != 0 && cuts < maxCuts) {
            uint256 point = uint256(keccak256(abi.encode(seed, disputeId, round, cuts))) % remaining;
            for (uint256 j = 0; j < cuts && cutStart[j] <= point; ++j) {
                point += cutWeight[j];
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
            seated[drawn++] = candidate;
        }
    }

    /// @dev Frees the lock of one seat whose dispute is final; a seat that voted against the final
    /// ruling or never revealed forfeits it: it leaves the stake and the tree, and is returned.
    function _release(address arbitrator, bool forfeit) internal returns (uint256 forfeited) {
        Arbitrator storage a = _arbitrators[arbitrator];
        uint64 lock = uint64(lockPerDraw);
        a.locked -= lock;
        if (!forfeit) return 0;
        a.stake -= lock;
        _tree.sub(a.slot, lock);
        return lock;
    }

    /// @dev Credits `amount` of panel rewards to `arbitrator`, withdrawn with its stake.
    function _reward(address arbitrator, uint256 amount) internal {
        _arbitrators[arbitrator].rewards += uint72(amount);
    }

    /// @dev True while a round whose randomness is requested may still be drawn: the tree and every
    /// lock stay as they were at the request, so nothing done after it can steer the draw.
    function _frozen() internal view returns (bool) {
        DrawQueue memory q = _draws;
        return q.pending != 0 && block.timestamp <= q.frozenUntil;
    }

    function _requireNoPendingDraw() internal view {
        if (_frozen()) revert DrawsPending(_draws.pending);
    }

    function _addStake(address arbitrator, Arbitrator storage a, uint256 amount) private {
        uint24 slot = a.slot;
        if (slot == 0) {
            slot = ++_slotCount;
            a.slot = slot;
            _slotOwner[slot] = arbitrator;
        }
        a.stake += uint96(amount);
        _tree.add(slot, amount);
        emit StakeChanged(arbitrator, a.stake);
    }

    function _leave(address arbitrator, Arbitrator storage a, Pending storage p, uint256 amount) private {
        uint256 left = a.stake - amount;
        a.stake = uint96(left);
        _tree.sub(a.slot, amount);
        uint40 unlockAt = uint40(block.timestamp) + unstakeDelay;
        (p.unstakeQueued, p.unlockAt) = (false, unlockAt);
        emit StakeChanged(arbitrator, left);
        emit UnstakeRequested(arbitrator, amount, unlockAt);
    }

    /// @dev Applies what `arbitrator` queued while draws were pending: the stake joins the tree, then
    /// the unstake leaves it, unless a draw has locked the arbitrator since or penalties left too
    /// little stake for it (then it is cancelled, and may be requested again).
    function _applyQueued(address arbitrator, Arbitrator storage a, Pending storage p) private {
        uint256 queued = p.stakeQueued;
        if (queued != 0) {
            p.stakeQueued = 0;
            _addStake(arbitrator, a, queued);
        }
        if (!p.unstakeQueued) return;
        uint256 amount = p.unstaking;
        uint256 staked = a.stake;
        if (a.locked != 0 || amount > staked || (staked - amount != 0 && staked - amount < minStake)) {
            (p.unstaking, p.unstakeQueued) = (0, false);
            emit UnstakeCancelled(arbitrator, amount, staked, a.locked);
            return;
        }
        _leave(arbitrator, a, p, amount);
    }
}
