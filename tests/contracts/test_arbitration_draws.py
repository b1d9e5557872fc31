"""Draws nobody can steer (issue 9, items 1 and 7): once a round's randomness is requested, no stake
change, no other dispute's draw or ruling, and no wait for the randomness to expire changes its panel."""

import pytest

from devtools.reverts import reverts
from tests.contracts.arbitration_helpers import (
    ARBITRATOR_STAKE,
    USDC,
    Phase,
    Ruling,
    after_appeal_window,
    everyone,
    open_dispute,
    panel_of,
    payouts,
    seats,
    vote_round,
)

BLOCKHASH_WINDOW = 256
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
