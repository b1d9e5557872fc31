"""Arbitrator staking: bounds, the unstaking delay, and stake locked while drawn in a live dispute."""

import ape
import pytest

from devtools.reverts import reverts
from devtools.system import PARAMS
from protocol_core.terms import ZERO_ADDRESS
from tests.contracts.arbitration_helpers import (
    LOCK,
    USDC,
    draw,
    everyone,
    fund,
    new_accounts,
    pool_owes,
    rule,
    stake_new,
)

MIN, MAX = PARAMS.arbitrator_min_stake, PARAMS.arbitrator_max_stake


@pytest.fixture
def newcomer(accounts, usdc, fresh_pool):
    (account,) = new_accounts(accounts, usdc, 1)
    fund(usdc, account, MAX + MIN, fresh_pool)
    return account


def test_stake_adds_to_total_stake_and_pulls_tokens(fresh_pool, usdc, newcomer):
    tx = fresh_pool.stake(MIN, sender=newcomer)

    assert tx.events == [
        fresh_pool.StakeChanged(newcomer, MIN),
        usdc.Transfer(newcomer, fresh_pool, MIN),
    ]
    assert fresh_pool.arbitratorOf(newcomer) == (MIN, 0, 0, 0, 0)
    assert fresh_pool.totalStake() == MIN
    assert usdc.balanceOf(fresh_pool) == MIN


def test_stake_reverts_below_min_stake(fresh_pool, newcomer):
    with reverts(fresh_pool.StakeOutOfBounds, arbitrator=newcomer, stake=MIN - 1, min=MIN, max=MAX):
        fresh_pool.stake(MIN - 1, sender=newcomer)


def test_stake_tops_up_to_max_stake_and_reverts_one_unit_above(fresh_pool, newcomer):
    fresh_pool.stake(MIN, sender=newcomer)

    with reverts(fresh_pool.StakeOutOfBounds, arbitrator=newcomer, stake=MAX + 1, min=MIN, max=MAX):
        fresh_pool.stake(MAX - MIN + 1, sender=newcomer)
    fresh_pool.stake(MAX - MIN, sender=newcomer)

    assert fresh_pool.arbitratorOf(newcomer).staked == MAX
    assert fresh_pool.totalStake() == MAX


def test_total_stake_sums_stakes_and_drops_with_unstaking(accounts, usdc, fresh_pool):
    first, second = stake_new(accounts, usdc, fresh_pool, [MIN, 120 * USDC]).values()
    usdc.mint(first, 30 * USDC, sender=first)
    fresh_pool.stake(30 * USDC, sender=first)
    assert fresh_pool.totalStake() == MIN + 30 * USDC + 120 * USDC

    fresh_pool.requestUnstake(70 * USDC, sender=second)

    assert fresh_pool.totalStake() == MIN + 30 * USDC + 50 * USDC
    assert usdc.balanceOf(fresh_pool) == MIN + 150 * USDC  # unstaking stays in the pool


def test_request_unstake_reverts_when_it_leaves_less_than_min_stake(fresh_pool, newcomer):
    fresh_pool.stake(MIN + 10 * USDC, sender=newcomer)

    with reverts(fresh_pool.StakeOutOfBounds, arbitrator=newcomer, stake=MIN - 1, min=MIN, max=MAX):
        fresh_pool.requestUnstake(10 * USDC + 1, sender=newcomer)


@pytest.mark.parametrize("amount", [0, MIN + 1])
def test_request_unstake_reverts_for_nothing_or_more_than_staked(fresh_pool, newcomer, amount):
    fresh_pool.stake(MIN, sender=newcomer)

    with reverts(fresh_pool.StakeOutOfBounds, arbitrator=newcomer, stake=amount, min=1, max=MIN):
        fresh_pool.requestUnstake(amount, sender=newcomer)


def test_request_unstake_of_everything_leaves_the_draw_until_unlock(chain, fresh_pool, newcomer):
    fresh_pool.stake(MIN, sender=newcomer)

    tx = fresh_pool.requestUnstake(MIN, sender=newcomer)

    unlock_at = chain.blocks.head.timestamp + PARAMS.unstake_delay
    assert tx.events == [
        fresh_pool.StakeChanged(newcomer, 0),
        fresh_pool.UnstakeRequested(newcomer, MIN, unlock_at),
    ]
    assert fresh_pool.arbitratorOf(newcomer) == (0, 0, MIN, unlock_at, 0)
    assert fresh_pool.totalStake() == 0


def test_withdraw_reverts_before_unlock_and_pays_from_unlock_at(chain, usdc, fresh_pool, newcomer):
    fresh_pool.stake(MIN, sender=newcomer)
    fresh_pool.requestUnstake(MIN, sender=newcomer)
    unlock_at = fresh_pool.arbitratorOf(newcomer).unlockAt
    before = usdc.balanceOf(newcomer)

    chain.pending_timestamp = unlock_at - 1
    with reverts(fresh_pool.NothingToWithdraw, account=newcomer, unlockAt=unlock_at):
        fresh_pool.withdraw(sender=newcomer)
    chain.pending_timestamp = unlock_at
    tx = fresh_pool.withdraw(sender=newcomer)

    assert tx.events == [fresh_pool.Withdrawn(newcomer, MIN), usdc.Transfer(fresh_pool, newcomer, MIN)]
    assert usdc.balanceOf(newcomer) == before + MIN
    assert fresh_pool.arbitratorOf(newcomer) == (0, 0, 0, 0, 0)
    assert usdc.balanceOf(fresh_pool) == 0


def test_withdraw_reverts_with_nothing_unstaked_or_earned(fresh_pool, newcomer):
    fresh_pool.stake(MIN, sender=newcomer)

    with reverts(fresh_pool.NothingToWithdraw, account=newcomer, unlockAt=0):
        fresh_pool.withdraw(sender=newcomer)


def test_request_unstake_reverts_while_drawn_and_works_after_execute_ruling(
    chain, usdc, deployer, pool, arbitrators, jobs, agent
):
    terms, _ = jobs.verdict(approve=True)
    dispute_id, _ = jobs.dispute(terms, agent)
    panel, _ = draw(pool, chain, dispute_id, agent)
    drawn_one = arbitrators[panel[0]]
    idle = next(a for address, a in arbitrators.items() if address not in panel)

    with reverts(pool.StakeLockedInDispute, arbitrator=drawn_one, locked=LOCK):
        pool.requestUnstake(LOCK, sender=drawn_one)
    pool.requestUnstake(LOCK, sender=idle)  # only those drawn are held

    rule(pool, chain, dispute_id, arbitrators, everyone(1))
    pool.requestUnstake(LOCK, sender=drawn_one)

    assert pool.arbitratorOf(drawn_one).locked == 0
    assert pool.arbitratorOf(drawn_one).unstaking == LOCK
    assert usdc.balanceOf(pool) == pool_owes(pool, [*arbitrators, deployer])


def test_request_unstake_never_restarts_the_delay_of_an_amount_already_unstaking(
    chain, usdc, fresh_pool, newcomer
):
    fresh_pool.stake(2 * MIN, sender=newcomer)
    fresh_pool.requestUnstake(MIN, sender=newcomer)
    unlock_at = fresh_pool.arbitratorOf(newcomer).unlockAt

    chain.pending_timestamp = unlock_at - 1
    with reverts(fresh_pool.UnstakePending, account=newcomer, pending=MIN, unlockAt=unlock_at):
        fresh_pool.requestUnstake(MIN, sender=newcomer)
    assert fresh_pool.arbitratorOf(newcomer) == (MIN, 0, MIN, unlock_at, 0)
    chain.pending_timestamp = unlock_at
    fresh_pool.withdraw(sender=newcomer)  # the first amount keeps its own delay
    fresh_pool.requestUnstake(MIN, sender=newcomer)
    assert fresh_pool.arbitratorOf(newcomer).unstaking == MIN


def _deploy_pool(project, deployer, usdc, system, min_stake=MIN, max_stake=MAX, max_rounds=PARAMS.max_rounds):
    p = PARAMS
    return deployer.deploy(
        project.ArbitrationPool,
        usdc.address,
        system.randomness.address,
        deployer.address,
        min_stake,
        max_stake,
        p.lock_per_draw,
        p.unstake_delay,
        max_rounds,
        (p.fee_per_arbitrator, p.commit_minutes, p.reveal_minutes, p.appeal_minutes),
        system.escrow.address,
    )


def test_constructor_refuses_a_minimum_stake_above_the_maximum(project, deployer, usdc, system):
    with ape.reverts(
        project.ArbitrationPool.StakeOutOfBounds, arbitrator=ZERO_ADDRESS, stake=LOCK, min=MAX + 1, max=MAX
    ):
        _deploy_pool(project, deployer, usdc, system, min_stake=MAX + 1)


@pytest.mark.parametrize("max_rounds", [0, 5, 7, 8])
def test_constructor_refuses_rounds_whose_panels_would_not_fit(project, deployer, usdc, system, max_rounds):
    with ape.reverts(project.ArbitrationPool.RoundsOutOfBounds, maxRounds=max_rounds, limit=4):
        _deploy_pool(project, deployer, usdc, system, max_rounds=max_rounds)
    assert _deploy_pool(project, deployer, usdc, system, max_rounds=4).MAX_ROUNDS() == 4
