"""Draws nobody can steer (issue 9, items 1 and 7): once a round's randomness is requested, no stake
change, no other dispute's draw or ruling, and no wait for the randomness to expire changes its panel."""

import pytest

from devtools.reverts import reverts
from devtools.system import PARAMS
from tests.contracts.arbitration_helpers import (
    ARBITRATOR_STAKE,
    LOCK,
    USDC,
    Phase,
    Ruling,
    after_appeal_window,
    everyone,
    fund,
    new_accounts,
    open_dispute,
    panel_of,
    payouts,
    seats,
    vote_round,
)

BLOCKHASH_WINDOW = 256
MIN, MAX = PARAMS.arbitrator_min_stake, PARAMS.arbitrator_max_stake
# About 8 % of the session pool's 20 x 200 USDC, in 40 amounts a searcher tries off chain.
SEARCHED_AMOUNTS = [330 * USDC + i * 1_777_777 for i in range(40)]


def predicted_panel(chain, pool, dispute_id, sender):
    """The panel an honest draw seats right now, found by drawing and undoing the draw."""
    with chain.isolate():
        pool.draw(dispute_id, sender=sender)
        return panel_of(pool, dispute_id)


@pytest.fixture
def attacker(project, usdc, claimant):
    """A fresh arbitrator account (a contract) holding 1,000 USDC, that stakes and draws in one call."""
    contract = claimant.deploy(project.TestStakeAndDraw)
    usdc.mint(contract, 1_000 * USDC, sender=claimant)
    return contract


def search_and_attack(pool, attacker, dispute_id, round_index, sender):
    """Dry-runs stake-and-draw over the searched amounts, then sends the best; returns the seats
    each amount would have won."""
    won = {
        amount: attacker.attack.call(pool, dispute_id, round_index, amount, sender=sender)
        for amount in SEARCHED_AMOUNTS
    }
    attacker.attack(pool, dispute_id, round_index, max(won, key=won.get), sender=sender)
    return won


def test_stake_searched_off_chain_and_drawn_in_one_transaction_wins_no_seat(
    chain, pool, usdc, arbitrators, claimant, attacker
):
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    chain.mine(2)  # the seed is public from here on
    honest = predicted_panel(chain, pool, dispute_id, claimant)

    won = search_and_attack(pool, attacker, dispute_id, 0, claimant)

    assert max(won.values()) == 0, f"stake amounts that won seats: {[a for a, s in won.items() if s]}"
    assert panel_of(pool, dispute_id) == honest


def test_stake_and_draw_in_an_appeal_round_wins_no_seat(chain, pool, usdc, arbitrators, claimant, attacker):
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    vote_round(pool, chain, dispute_id, arbitrators, everyone(Ruling.PAY_WORKER))
    pool.appeal(dispute_id, sender=claimant)
    chain.mine(2)
    honest = predicted_panel(chain, pool, dispute_id, claimant)

    won = search_and_attack(pool, attacker, dispute_id, 1, claimant)

    assert max(won.values()) == 0, f"stake amounts that won seats: {[a for a, s in won.items() if s]}"
    assert panel_of(pool, dispute_id, 1) == honest


def test_unstaking_after_the_request_does_not_reshape_the_panel(chain, pool, usdc, arbitrators, claimant):
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    chain.mine(2)
    honest = predicted_panel(chain, pool, dispute_id, claimant)

    reshaped = {}
    for address in list(arbitrators)[:8]:  # each tries leaving, off chain, before drawing
        with chain.isolate():
            pool.requestUnstake(ARBITRATOR_STAKE, sender=arbitrators[address])
            pool.draw(dispute_id, sender=claimant)
            reshaped[address] = panel_of(pool, dispute_id)

    assert {a: p for a, p in reshaped.items() if p != honest} == {}


def test_a_ruling_executed_while_a_draw_is_pending_moves_no_stake_until_the_draw(
    chain, pool, usdc, arbitrators, claimant
):
    first, _ = open_dispute(pool, usdc, claimant)
    result = vote_round(pool, chain, first, arbitrators, seats(Ruling.PAY_WORKER, Ruling.PAY_WORKER, 2))
    after_appeal_window(pool, chain, first)
    second, _ = open_dispute(pool, usdc, claimant)
    before = {a: pool.arbitratorOf(a) for a in arbitrators}
    total = pool.totalStake()

    tx = pool.executeRuling(first, sender=claimant)

    assert pool.phase(first) == Phase.FINAL
    assert tx.events.filter(pool.Penalized) == [] and tx.events.filter(pool.Rewarded) == []
    assert tx.events.filter(pool.PaymentDeferred) == [pool.PaymentDeferred(first)]
    assert {a: pool.arbitratorOf(a) for a in arbitrators} == before
    assert pool.totalStake() == total
    with reverts(pool.DrawsPending, pending=1):
        pool.payPanels(first, sender=claimant)
    chain.mine(2)
    pool.draw(second, sender=claimant)

    paid = pool.payPanels(first, sender=claimant)

    rewards, penalized = payouts(result, pool.roundOf(first, 0).fee, Ruling.PAY_WORKER)
    assert [(e.arbitrator, e.reward) for e in paid.events.filter(pool.Rewarded)] == list(rewards.items())
    assert [e.arbitrator for e in paid.events.filter(pool.Penalized)] == penalized
    with reverts(pool.AlreadyPaid, disputeId=first):
        pool.payPanels(first, sender=claimant)


def test_pending_draws_are_drawn_in_the_order_their_randomness_was_requested(
    chain, pool, usdc, arbitrators, claimant
):
    first, _ = open_dispute(pool, usdc, claimant)
    second, _ = open_dispute(pool, usdc, claimant)
    chain.mine(2)

    with reverts(pool.DrawOutOfOrder, disputeId=second, firstDisputeId=first, firstRound=0):
        pool.draw(second, sender=claimant)
    pool.draw(first, sender=claimant)
    pool.draw(second, sender=claimant)

    assert pool.phase(second) == Phase.COMMIT


def test_a_seed_recorded_in_time_survives_the_expiry_of_the_blockhash(
    chain, pool, usdc, arbitrators, claimant, stranger
):
    dispute_id, opened = open_dispute(pool, usdc, claimant)
    request = opened.events.filter(pool.RandomnessRequested)[0].requestId
    chain.mine(2)
    honest = predicted_panel(chain, pool, dispute_id, claimant)

    recorded = pool.recordSeed(dispute_id, sender=stranger)
    chain.mine(BLOCKHASH_WINDOW + 44)  # the party who dislikes the panel waits
    tx = pool.draw(dispute_id, sender=claimant)

    assert recorded.events == [pool.SeedRecorded(dispute_id, 0, request)]
    assert tx.events.filter(pool.RandomnessRequested) == []
    assert panel_of(pool, dispute_id) == honest


# What stakers can still do while a draw is pending: queue, and have it applied afterwards


def test_a_stake_placed_while_a_draw_is_pending_is_held_and_applied_after_the_draw(
    chain, accounts, usdc, pool, arbitrators, claimant, stranger
):
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    (newcomer,) = new_accounts(accounts, usdc, 1)
    fund(usdc, newcomer, 3 * MIN, pool)
    total = pool.totalStake()
    held = usdc.balanceOf(pool)

    tx = pool.stake(MIN, sender=newcomer)

    assert pool.pendingDraws() == 1
    assert tx.events.filter(pool.StakeQueued) == [pool.StakeQueued(newcomer, MIN, MIN)]
    assert tx.events.filter(pool.StakeChanged) == []
    assert (pool.totalStake(), usdc.balanceOf(pool)) == (total, held + MIN)
    assert (pool.arbitratorOf(newcomer).staked, pool.queuedOf(newcomer)) == (0, (MIN, 0))
    with reverts(pool.DrawsPending, pending=1):
        pool.applyQueuedStakes([newcomer], sender=stranger)
    chain.mine(2)
    pool.draw(dispute_id, sender=stranger)
    assert pool.pendingDraws() == 0

    applied = pool.applyQueuedStakes([newcomer, stranger], sender=stranger)  # stranger: nothing queued

    assert applied.events == [pool.StakeChanged(newcomer, MIN)]
    assert (pool.totalStake(), pool.queuedOf(newcomer)) == (total + MIN, (0, 0))


def test_the_stakers_next_stake_applies_its_queue_first(chain, accounts, usdc, pool, arbitrators, claimant):
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    (newcomer,) = new_accounts(accounts, usdc, 1)
    fund(usdc, newcomer, 3 * MIN, pool)
    pool.stake(MIN, sender=newcomer)
    chain.mine(2)
    pool.draw(dispute_id, sender=claimant)

    tx = pool.stake(MIN, sender=newcomer)

    assert tx.events.filter(pool.StakeChanged) == [
        pool.StakeChanged(newcomer, MIN),
        pool.StakeChanged(newcomer, 2 * MIN),
    ]
    assert pool.arbitratorOf(newcomer).staked == 2 * MIN


def test_a_queued_stake_counts_against_the_maximum(accounts, usdc, pool, arbitrators, claimant):
    open_dispute(pool, usdc, claimant)
    (newcomer,) = new_accounts(accounts, usdc, 1)
    fund(usdc, newcomer, 2 * MAX, pool)
    pool.stake(MAX, sender=newcomer)

    with reverts(pool.StakeOutOfBounds, arbitrator=newcomer, stake=MAX + 1, min=MIN, max=MAX):
        pool.stake(1, sender=newcomer)


def test_an_unstake_queued_by_an_arbitrator_not_drawn_starts_its_delay_when_applied(
    chain, pool, usdc, arbitrators, claimant
):
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    chain.mine(2)
    honest = predicted_panel(chain, pool, dispute_id, claimant)
    leaver = next(a for a in arbitrators if a not in honest)

    tx = pool.requestUnstake(ARBITRATOR_STAKE, sender=arbitrators[leaver])

    assert tx.events == [pool.UnstakeQueued(leaver, ARBITRATOR_STAKE)]
    assert pool.arbitratorOf(leaver) == (ARBITRATOR_STAKE, 0, 0, 0, 0)
    assert pool.queuedOf(leaver) == (0, ARBITRATOR_STAKE)
    with reverts(pool.UnstakePending, account=leaver, pending=ARBITRATOR_STAKE, unlockAt=0):
        pool.requestUnstake(1, sender=arbitrators[leaver])
    pool.draw(dispute_id, sender=claimant)
    assert panel_of(pool, dispute_id) == honest

    applied = pool.applyQueuedStakes([leaver], sender=claimant)

    unlock_at = chain.blocks.head.timestamp + PARAMS.unstake_delay
    assert applied.events == [
        pool.StakeChanged(leaver, 0),
        pool.UnstakeRequested(leaver, ARBITRATOR_STAKE, unlock_at),
    ]
    assert pool.arbitratorOf(leaver) == (0, 0, ARBITRATOR_STAKE, unlock_at, 0)


def test_an_unstake_queued_by_an_arbitrator_the_draw_seats_is_cancelled(
    chain, pool, usdc, arbitrators, claimant
):
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    chain.mine(2)
    seated = predicted_panel(chain, pool, dispute_id, claimant)[0]
    pool.requestUnstake(ARBITRATOR_STAKE, sender=arbitrators[seated])
    pool.draw(dispute_id, sender=claimant)

    tx = pool.applyQueuedStakes([seated], sender=claimant)

    assert tx.events == [pool.UnstakeCancelled(seated, ARBITRATOR_STAKE, ARBITRATOR_STAKE, LOCK)]
    assert pool.arbitratorOf(seated) == (ARBITRATOR_STAKE, LOCK, 0, 0, 0)
    assert pool.queuedOf(seated) == (0, 0)


# Draws keep their order, and their time


def test_a_round_not_drawn_by_its_draw_by_lapses_instead(chain, pool, usdc, arbitrators, claimant):
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    draw_by = pool.roundOf(dispute_id, 0).drawBy
    chain.pending_timestamp = draw_by + 1

    with reverts(pool.DrawTooLate, disputeId=dispute_id, drawBy=draw_by):
        pool.draw(dispute_id, sender=claimant)
    assert pool.pendingDraws() == 0  # nothing can be drawn any more: stakes apply at once
    pool.executeRuling(dispute_id, sender=claimant)
    assert pool.phase(dispute_id) == Phase.FINAL


def test_a_later_round_may_be_drawn_once_an_earlier_one_is_past_its_draw_by(
    chain, pool, usdc, arbitrators, claimant
):
    first, _ = open_dispute(pool, usdc, claimant)
    chain.pending_timestamp = pool.roundOf(first, 0).drawBy - 5
    second, _ = open_dispute(pool, usdc, claimant)
    chain.mine(2)
    chain.pending_timestamp = pool.roundOf(first, 0).drawBy + 1

    pool.draw(second, sender=claimant)

    assert (pool.phase(first), pool.phase(second)) == (Phase.DRAWING, Phase.COMMIT)
    # The first counts until it lapses (or the last drawBy passes): freezing longer is the safe side.
    assert pool.pendingDraws() == 1
    pool.executeRuling(first, sender=claimant)
    assert pool.pendingDraws() == 0


# Randomness that expires: the seed survives when anyone touched it in time; else the expiry is public


def test_record_seed_refuses_an_unanswered_request_and_a_second_record(pool, usdc, arbitrators, claimant):
    dispute_id, opened = open_dispute(pool, usdc, claimant)
    request = opened.events.filter(pool.RandomnessRequested)[0].requestId
    with reverts(pool.RandomnessNotReady, disputeId=dispute_id, requestId=request):
        pool.recordSeed(dispute_id, sender=claimant)
    pool.recordSeed(dispute_id, sender=claimant)  # the next block is mined: its hash answers

    with reverts(pool.SeedAlreadyRecorded, disputeId=dispute_id, round=0):
        pool.recordSeed(dispute_id, sender=claimant)


def test_an_expiry_nobody_prevented_is_announced_and_the_tree_stays_frozen_across_it(
    chain, accounts, usdc, pool, arbitrators, claimant
):
    first, opened = open_dispute(pool, usdc, claimant)
    second, _ = open_dispute(pool, usdc, claimant)
    request = opened.events.filter(pool.RandomnessRequested)[0].requestId
    (newcomer,) = new_accounts(accounts, usdc, 1)
    fund(usdc, newcomer, MIN, pool)
    pool.stake(MIN, sender=newcomer)
    total = pool.totalStake()
    chain.mine(BLOCKHASH_WINDOW + 44)

    tx = pool.draw(first, sender=claimant)

    assert tx.events == [
        pool.RandomnessExpired(first, 0, request),
        pool.RandomnessRequested(first, 0, tx.block_number + 1),
    ]
    assert pool.pendingDraws() == 2
    assert (pool.totalStake(), pool.queuedOf(newcomer)) == (total, (MIN, 0))
    with reverts(pool.DrawOutOfOrder, disputeId=second, firstDisputeId=first, firstRound=0):
        pool.draw(second, sender=claimant)
    pool.recordSeed(second, sender=claimant)  # the second's seed is kept while it waits its turn
    chain.mine(2)
    pool.draw(first, sender=claimant)
    pool.draw(second, sender=claimant)
    assert pool.pendingDraws() == 0
