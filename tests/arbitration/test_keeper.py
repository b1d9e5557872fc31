"""The keeper (`arbitrator watch --keeper`) leaves no dispute waiting on anyone: it records a seed at
once when the draw has to wait its turn, draws, tallies, executes, pays deferred panels, applies queued
stakes, lets an undrawable round lapse, and retries a failed delivery only once the arbitrable would
take it. The real daemon pass in this process, on the session chain."""

from sqlalchemy import select

from arbitration.tables import keeper_calls
from tests.contracts.arbitration_helpers import FIRST_FEE, USDC, fund, new_accounts, open_dispute, stake_new

STAKE = 100 * USDC  # ten seats' worth of locks
REVERT, ACCEPT = 1, 0  # TestHostileArbitrable modes


def _passes(watcher, done, most: int = 4):
    """Runs daemon passes until `done()` holds; fails after `most` passes."""
    for _ in range(most):
        watcher.run_once()
        if done():
            return
    raise AssertionError(f"not done after {most} passes")


def _sent(watcher) -> list[tuple[int, str]]:
    with watcher._engine.connect() as db:
        rows = db.execute(select(keeper_calls.c.dispute_id, keeper_calls.c.action)).all()
    return [tuple(r) for r in rows]


def test_keeper_moves_every_dispute_that_waits_on_anyone(
    chain, project, system, deployer, accounts, usdc, make_watcher, pool_logs
):
    pool = system.arbitrator
    stake_new(accounts, usdc, pool, [STAKE] * 3)
    (opener,) = new_accounts(accounts, usdc, 1, 100 * USDC)
    hostile = deployer.deploy(project.TestHostileArbitrable)
    usdc.mint(hostile, 10 * FIRST_FEE, sender=deployer)
    hostile.setMode(REVERT, sender=deployer)
    first = (
        hostile.open(pool, usdc, FIRST_FEE, sender=deployer).events.filter(pool.DisputeCreation)[0].disputeId
    )
    second, _ = open_dispute(pool, usdc, opener)
    chain.mine(2)  # both seeds are known; the second draw must wait for the first
    keeper = make_watcher(keeper=True)

    keeper.run_once()
    assert len(pool_logs("Drawn", first)) == 3
    assert len(pool_logs("SeedRecorded", second)) == 1 and not pool_logs("Drawn", second)
    _passes(keeper, lambda: len(pool_logs("Drawn", second)) == 3)

    last = max(pool.roundOf(d, 0).revealEnd for d in (first, second))
    chain.mine(timestamp=last + 1)
    _passes(keeper, lambda: pool_logs("Tallied", first) and pool_logs("Tallied", second))

    third, _ = open_dispute(pool, usdc, opener)  # its draw is pending: payments wait, stakes queue
    (late,) = new_accounts(accounts, usdc, 1)
    fund(usdc, late, STAKE, pool)
    pool.stake(STAKE, sender=late)
    assert pool.queuedOf(late) == (STAKE, 0)
    chain.mine(timestamp=max(pool.roundOf(d, 0).appealEnd for d in (first, second)) + 1)
    _passes(keeper, lambda: pool_logs("Ruling", first) and pool_logs("Ruling", second))
    assert pool_logs("PaymentDeferred", first) and pool_logs("PaymentDeferred", second)
    assert pool_logs("RulingDeliveryFailed", first) and not pool_logs("RulingDelivered", first)

    _passes(keeper, lambda: pool.queuedOf(late) == (0, 0) and len(pool_logs("Penalized", second)) == 3)
    assert len(pool_logs("Drawn", third)) == 3
    assert len(pool_logs("Penalized", first)) == 3  # nobody voted: every lock goes to the reserve
    assert pool.arbitratorOf(late)[0] == STAKE
    keeper.run_once()
    assert (first, "deliverRuling") not in _sent(keeper)  # the arbitrable still refuses: nothing sent

    hostile.setMode(ACCEPT, sender=deployer)
    _passes(keeper, lambda: pool_logs("RulingDelivered", first))
    assert hostile.rulings() == 1

    fourth, _ = open_dispute(pool, usdc, opener)  # never drawn: it lapses once its drawBy has passed
    chain.mine(timestamp=pool.roundOf(fourth, 0).drawBy + 1)
    _passes(keeper, lambda: pool_logs("Ruling", fourth))
    sent = _sent(keeper)
    assert len(sent) == len(set(sent))  # each duty once
    assert {a for d, a in sent if d == second} == {
        "draw",
        "recordSeed",
        "tally",
        "executeRuling",
        "payPanels",
    }
    assert (0, "applyQueuedStakes") in sent and (fourth, "executeRuling") in sent
