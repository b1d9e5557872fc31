// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IArbitrableV2} from "../interfaces/IArbitrableV2.sol";
import {IArbitrationPool, RoundPhase} from "../interfaces/IArbitrationPool.sol";
import {PoolRounds} from "./PoolRounds.sol";

/// @title PoolVotes
/// @notice A panel's hidden votes and what follows from them: commit, reveal, the tally, and the
/// final ruling, which pays the panels and is delivered to the arbitrable.
abstract contract PoolVotes is PoolRounds {
    /// @inheritdoc IArbitrationPool
    uint256 public constant RULE_CALLBACK_GAS = 300_000;

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
        uint40 appealEnd = uint40(block.timestamp) + (last ? 0 : uint40(r.appealMinutes) * 60);
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
            _draws.pending -= 1;
        } else if (current != RoundPhase.Appealable) {
            revert WrongPhase(disputeId, current, RoundPhase.Appealable);
        } else if (block.timestamp <= r.appealEnd && d.round + 1 < maxRounds) {
            revert WrongPhase(disputeId, RoundPhase.Appealable, RoundPhase.Final);
        }
        d.isFinal = true;
        // Paying moves locks and stakes, which a pending draw must not see change.
        if (_frozen()) emit PaymentDeferred(disputeId);
        else _payRounds(disputeId, d);
        emit Ruling(IArbitrableV2(d.arbitrable), disputeId, d.ruling);
        _deliver(disputeId, d);
    }

    /// @inheritdoc IArbitrationPool
    function payPanels(uint256 disputeId) external nonReentrant {
        _requirePhase(disputeId, RoundPhase.Final);
        Dispute storage d = _disputes[disputeId];
        if (d.paid) revert AlreadyPaid(disputeId);
        _requireNoPendingDraw();
        _payRounds(disputeId, d);
    }

    /// @inheritdoc IArbitrationPool
    function deliverRuling(uint256 disputeId) external nonReentrant {
        _requirePhase(disputeId, RoundPhase.Final);
        Dispute storage d = _disputes[disputeId];
        if (d.delivered) revert AlreadyDelivered(disputeId);
        _deliver(disputeId, d);
    }

    /// @inheritdoc IArbitrationPool
    function commitmentOf(uint256 disputeId, uint256 round, address arbitrator, uint256 choice, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(disputeId, round, arbitrator, choice, salt));
    }

    /// @dev A round nobody could be drawn for: an appeal falls back to the ruling it appealed, and
    /// its fee joins the previous round's; a first round rules 0 and, with no panel, its fee goes to
    /// the reward reserve in `_payRound`.
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

    function _payRounds(uint256 disputeId, Dispute storage d) private {
        d.paid = true;
        (uint256 ruling, bool tied) = (d.ruling, d.tied);
        for (uint256 round = 0; round <= d.round; ++round) {
            _payRound(disputeId, round, ruling, tied);
        }
    }

    /// @dev Voters with the final ruling share the round's fee and the stake lost by the others;
    /// the first of them takes the rounding dust. With none, it all goes to the reward reserve, for
    /// the next panel: nobody, governance included, gains from a panel that could not vote.
    function _payRound(uint256 disputeId, uint256 round, uint256 ruling, bool tied) private {
        Round storage r = _rounds[disputeId][round];
        address[] storage panel = r.panel;
        mapping(address => uint256) storage votes = _votes[disputeId][round];
        uint256 n = panel.length;
        uint256 pot = r.fee;
        uint256 coherent = 0;
        for (uint256 i = 0; i < n; ++i) {
            address arbitrator = panel[i];
            if (_coherent(votes[arbitrator], ruling, tied)) {
                _release(arbitrator, false);
                ++coherent;
            } else {
                uint256 penalty = _release(arbitrator, true);
                pot += penalty;
                emit Penalized(disputeId, arbitrator, penalty);
            }
        }
        if (coherent == 0) {
            rewardReserve += pot;
            emit RewardsFunded(address(this), pot);
            return;
        }
        uint256 share = pot / coherent;
        uint256 dust = pot % coherent;
        for (uint256 i = 0; i < n; ++i) {
            address arbitrator = panel[i];
            if (!_coherent(votes[arbitrator], ruling, tied)) continue;
            _reward(arbitrator, share + dust);
            emit Rewarded(disputeId, arbitrator, share + dust);
            dust = 0;
        }
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

    /// @dev With the final ruling, or any revealed vote when it was a tie: a tie is nobody's fault.
    function _coherent(uint256 vote, uint256 ruling, bool tied) private pure returns (bool) {
        return vote == REVEALED + ruling || (tied && vote >= REVEALED && vote <= RESERVED);
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
