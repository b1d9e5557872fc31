"""Appeals: the losing side pays for a larger panel within the window; the last round is final."""

import pytest

from devtools.reverts import reverts
from devtools.system import PARAMS
from protocol_core.enums import JobStatus
from tests.contracts.arbitration_helpers import (
    ARBITRATOR_STAKE,
    FIRST_FEE,
    LOCK,
    USDC,
    Phase,
    Ruling,
    after_appeal_window,
    drain_escrow,
    everyone,
    fund,
    payouts,
    pool_owes,
    seats,
    vote_round,
)

FEE = PARAMS.fee_per_arbitrator


@pytest.fixture
def lost_by_agent(chain, pool, arbitrators, jobs, agent):
    """The agent disputed an approval and the first panel ruled PayWorker; (dispute id, terms)."""
    terms, _ = jobs.verdict(approve=True)
    dispute_id, _ = jobs.dispute(terms, agent)
    vote_round(pool, chain, dispute_id, arbitrators, everyone(Ruling.PAY_WORKER))
    return dispute_id, terms


def _holders(arbitrators, deployer):
    return [*arbitrators, deployer]


def test_losing_agent_appeals_within_the_window_paying_appeal_cost(usdc, escrow, pool, agent, lost_by_agent):
    dispute_id, terms = lost_by_agent
    cost = pool.appealCost(dispute_id)
    assert cost == 7 * FEE
    before = usdc.balanceOf(agent)

    tx = escrow.appeal(terms.as_abi(), sender=agent)

    assert tx.events.filter(escrow.JobAppealed) == [escrow.JobAppealed(terms.digest(), agent, cost)]
    assert tx.events.filter(pool.AppealDecision) == [pool.AppealDecision(dispute_id, escrow)]
    assert tx.events.filter(pool.RandomnessRequested) == [
        pool.RandomnessRequested(dispute_id, 1, tx.block_number + 1)
    ]
    assert usdc.balanceOf(agent) == before - cost
    view = pool.roundOf(dispute_id, 1)
    assert (view.panelSize, view.fee, view.panel) == (7, cost, [])
    assert pool.phase(dispute_id) == Phase.DRAWING
    assert pool.appealCost(dispute_id) == 15 * FEE


def test_winning_worker_or_outsider_appeal_reverts_not_losing_side(escrow, worker, stranger, lost_by_agent):
    _, terms = lost_by_agent

    for caller in (worker, stranger):
        with reverts(escrow.NotLosingSide, jobId=terms.digest(), caller=caller, ruling=Ruling.PAY_WORKER):
            escrow.appeal(terms.as_abi(), sender=caller)


def test_appeal_accepted_at_the_end_of_the_appeal_window(chain, escrow, pool, agent, lost_by_agent):
    dispute_id, terms = lost_by_agent

    chain.pending_timestamp = pool.roundOf(dispute_id, 0).appealEnd
    escrow.appeal(terms.as_abi(), sender=agent)

    assert pool.roundOf(dispute_id, 1).panelSize == 7


def test_appeal_reverts_one_second_after_the_appeal_window(chain, escrow, pool, agent, lost_by_agent):
    dispute_id, terms = lost_by_agent

    chain.pending_timestamp = pool.roundOf(dispute_id, 0).appealEnd + 1
    with reverts(pool.WrongPhase, disputeId=dispute_id, actual=Phase.FINAL, expected=Phase.APPEALABLE):
        escrow.appeal(terms.as_abi(), sender=agent)


def test_appeal_reverts_before_the_tally(chain, escrow, pool, agent, jobs):
    terms, _ = jobs.verdict(approve=True)
    dispute_id, _ = jobs.dispute(terms, agent)

    with reverts(pool.WrongPhase, disputeId=dispute_id, actual=Phase.DRAWING, expected=Phase.APPEALABLE):
        escrow.appeal(terms.as_abi(), sender=agent)


def test_either_side_may_appeal_a_tie(chain, usdc, escrow, pool, arbitrators, jobs, agent, worker):
    terms, _ = jobs.verdict(approve=True)
    dispute_id, _ = jobs.dispute(terms, agent)
    vote_round(pool, chain, dispute_id, arbitrators, seats(1, 2, None))
    assert pool.currentRuling(dispute_id) == (0, True, False)
    fund(usdc, worker, 7 * FEE, escrow)

    escrow.appeal(terms.as_abi(), sender=worker)

    assert usdc.balanceOf(worker) == 0
    assert pool.roundOf(dispute_id, 1).panelSize == 7


def test_appeal_panel_of_seven_decides_and_every_round_is_paid_by_the_final_ruling(
    chain, usdc, deployer, escrow, pool, arbitrators, agent, worker, operators, lost_by_agent
):
    dispute_id, terms = lost_by_agent
    round0_panel = [str(a) for a in pool.roundOf(dispute_id, 0).panel]
    escrow.appeal(terms.as_abi(), sender=agent)

    second = vote_round(pool, chain, dispute_id, arbitrators, everyone(Ruling.REFUND_AGENT))
    assert len(second.panel) == 7 == len(set(second.panel))
    after_appeal_window(pool, chain, dispute_id)
    stakes_before = {a: pool.arbitratorOf(a).staked for a in arbitrators}
    tx = pool.executeRuling(dispute_id, sender=agent)

    # Round 0 voted PayWorker against the final RefundAgent: all penalized, the pot funds the reserve.
    rewards, penalized = payouts(second, 7 * FEE, Ruling.REFUND_AGENT)
    assert penalized == []
    assert tx.events.filter(pool.Penalized) == [pool.Penalized(dispute_id, a, LOCK) for a in round0_panel]
    assert tx.events.filter(pool.Rewarded) == [pool.Rewarded(dispute_id, a, r) for a, r in rewards.items()]
    assert tx.events.filter(pool.RewardsFunded) == [pool.RewardsFunded(pool, FIRST_FEE + 3 * LOCK)]
    for address in arbitrators:
        lost = LOCK if address in round0_panel else 0
        assert pool.arbitratorOf(address)[:2] == (stakes_before[address] - lost, 0)
        assert pool.arbitratorOf(address).rewards == rewards.get(address, 0)
    assert escrow.disputeOf(terms.digest())[5:] == (True, Ruling.REFUND_AGENT)
    assert usdc.balanceOf(pool) == pool_owes(pool, _holders(arbitrators, deployer))

    escrow.settle(terms.as_abi(), sender=agent)
    drain_escrow(escrow, [agent, worker, *operators])
    assert usdc.balanceOf(escrow) == 0


def _three_rounds(chain, usdc, escrow, pool, arbitrators, agent, worker, terms, dispute_id):
    """Appeals twice after the first round (agent, then worker); returns the last round's result."""
    fund(usdc, worker, 100 * USDC, escrow)
    escrow.appeal(terms.as_abi(), sender=agent)
    vote_round(pool, chain, dispute_id, arbitrators, everyone(Ruling.REFUND_AGENT))
    escrow.appeal(terms.as_abi(), sender=worker)
    return vote_round(pool, chain, dispute_id, arbitrators, everyone(Ruling.REFUND_AGENT))


def test_last_round_of_fifteen_is_final_at_tally(
    chain, usdc, deployer, escrow, pool, arbitrators, agent, worker, operators, lost_by_agent
):
    dispute_id, terms = lost_by_agent

    last = _three_rounds(chain, usdc, escrow, pool, arbitrators, agent, worker, terms, dispute_id)

    sizes = [pool.roundOf(dispute_id, r).panelSize for r in range(3)]
    assert sizes == [3, 7, 15]
    assert len(set(last.panel)) == 15
    tallied_at = chain.blocks[last.tally.block_number].timestamp
    assert last.tally.events == [pool.Tallied(dispute_id, 2, Ruling.REFUND_AGENT, False, tallied_at)]
    chain.pending_timestamp = tallied_at  # no appeal window to wait for
    tx = pool.executeRuling(dispute_id, sender=agent)
    assert tx.events.filter(pool.RulingDelivered) == [pool.RulingDelivered(dispute_id)]
    assert pool.phase(dispute_id) == Phase.FINAL
    assert usdc.balanceOf(pool) == pool_owes(pool, _holders(arbitrators, deployer))

    escrow.settle(terms.as_abi(), sender=agent)
    drain_escrow(escrow, [agent, worker, *operators])
    assert usdc.balanceOf(escrow) == 0


def test_appeal_after_the_last_round_reverts_no_more_appeals(
    chain, usdc, escrow, pool, arbitrators, agent, worker, lost_by_agent
):
    dispute_id, terms = lost_by_agent
    terms_abi = terms.as_abi()
    _three_rounds(chain, usdc, escrow, pool, arbitrators, agent, worker, terms, dispute_id)
    fund(usdc, worker, 100 * USDC, escrow)
    tallied_at = pool.roundOf(dispute_id, 2).appealEnd  # the last round: its appeal ends at its tally

    # At that second, unless funding the worker already mined later blocks (a slow machine's clock).
    chain.pending_timestamp = max(tallied_at, chain.blocks.head.timestamp)
    with reverts(pool.NoMoreAppeals, disputeId=dispute_id, maxRounds=PARAMS.max_rounds):
        escrow.appeal(terms_abi, sender=worker)
    chain.pending_timestamp = tallied_at + 1  # any later second: still no more appeals
    with reverts(pool.NoMoreAppeals, disputeId=dispute_id, maxRounds=PARAMS.max_rounds):
        escrow.appeal(terms_abi, sender=worker)


def test_earlier_panels_can_unstake_after_an_appeal_panel_cannot_be_drawn(
    chain, usdc, escrow, pool, arbitrators, agent, worker, jobs
):
    terms, _ = jobs.verdict(approve=True)
    dispute_id, _ = jobs.dispute(terms, agent)
    first = vote_round(pool, chain, dispute_id, arbitrators, everyone(Ruling.REFUND_AGENT))
    idle = [a for a in arbitrators if a not in first.panel]
    for address in idle[3:]:  # six arbitrators stay: too few for a panel of seven
        pool.requestUnstake(ARBITRATOR_STAKE, sender=arbitrators[address])
    fund(usdc, worker, 7 * FEE, escrow)
    escrow.appeal(terms.as_abi(), sender=worker)
    chain.mine(2)
    with reverts(pool.NotEnoughArbitrators, disputeId=dispute_id, drawn=6, needed=7):
        pool.draw(dispute_id, sender=worker)

    # After DRAW_TIMEOUT the appeal lapses: the first ruling stands, its panel gets the appeal fee.
    chain.pending_timestamp = pool.roundOf(dispute_id, 1).drawBy + 1
    tx = pool.executeRuling(dispute_id, sender=worker)
    assert tx.events.filter(pool.Ruling) == [pool.Ruling(escrow, dispute_id, Ruling.REFUND_AGENT)]
    rewards = {e.arbitrator: e.reward for e in tx.events.filter(pool.Rewarded)}
    assert set(rewards) == set(first.panel)
    assert sum(rewards.values()) == 3 * FEE + 7 * FEE
    escrow.settle(terms.as_abi(), sender=worker)
    assert escrow.jobState(terms.digest())[0] == JobStatus.REFUNDED

    # The first panel's arbitrators are free to leave.
    drawn_one = arbitrators[first.panel[0]]
    pool.requestUnstake(LOCK, sender=drawn_one)
    assert pool.arbitratorOf(drawn_one).locked == 0


def test_the_losing_side_cannot_outlast_the_escrows_dispute_timeout(
    chain, escrow, pool, deployer, arbitrators, jobs, agent, worker
):
    """Appealing at the last second of every window, with the longest phases governance may set and
    every draw as late as allowed, still ends inside DISPUTE_TIMEOUT: the escrow settles by the
    ruling, never by a split forced by waiting."""
    week = 7 * 24 * 60
    with reverts(pool.PhaseLengthOutOfBounds, minutes_=week, min=10, max=2 * 24 * 60):
        pool.setParameters((FEE, week, week, week), sender=deployer)
    longest = pool.MAX_PHASE_MINUTES()
    worst_round = pool.DRAW_TIMEOUT() + 3 * longest * 60
    assert pool.MAX_ROUNDS() * worst_round <= escrow.DISPUTE_TIMEOUT()
    pool.setParameters((FEE, longest, longest, longest), sender=deployer)
    terms, _ = jobs.verdict(approve=True)
    dispute_id, _ = jobs.dispute(terms, agent)
    deadline = escrow.jobState(terms.digest())[2]

    for index in range(PARAMS.max_rounds):
        chain.mine(timestamp=pool.roundOf(dispute_id, index).drawBy - 10)  # the latest draw
        vote_round(pool, chain, dispute_id, arbitrators, everyone(Ruling.PAY_WORKER))
        if index + 1 < PARAMS.max_rounds:
            chain.pending_timestamp = pool.roundOf(dispute_id, index).appealEnd
            escrow.appeal(terms.as_abi(), sender=agent)
    tx = pool.executeRuling(dispute_id, sender=worker)

    assert chain.blocks[tx.block_number].timestamp <= deadline
    record = escrow.disputeOf(terms.digest())
    assert (record[5], record[6]) == (True, Ruling.PAY_WORKER)  # ruled, by the panels
