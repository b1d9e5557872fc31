"""Escrow disputes: who may dispute when, what it costs, and how each ruling moves the money."""

import pytest

from devtools.reverts import reverts
from devtools.system import PARAMS, REWARD
from protocol_core.enums import JobStatus
from tests.contracts.arbitration_helpers import (
    CHALLENGE_WINDOW,
    REFUND_BY_RULING,
    USDC,
    Ruling,
    fund,
)

FEE = 3 * PARAMS.fee_per_arbitrator
SLASH = PARAMS.oracle_slash
SLASHED = 2 * SLASH  # the two operators who attested the verdict
TO_DISPUTER = FEE + (SLASHED - FEE) * PARAMS.wronged_share_bps // 10_000  # fee first, then a share
TO_TREASURY = SLASHED - TO_DISPUTER
PROTOCOL_FEE = REWARD * PARAMS.protocol_fee_bps // 10_000
DISPUTE_TIMEOUT = 30 * 24 * 3600


def bond_of(reward):
    return max(PARAMS.dispute_bond_min, reward * PARAMS.dispute_bond_bps // 10_000)


BOND = bond_of(REWARD)
POOL_SHARE = BOND * PARAMS.bond_pool_share_bps // 10_000


@pytest.fixture
def funded_worker(usdc, escrow, worker):
    fund(usdc, worker, 100 * USDC, escrow)
    return worker


class Money:
    """Token balances of the people of a test, from before the job was posted."""

    def __init__(self, usdc, **people):
        self.usdc, self.people = usdc, people
        self.start = {name: usdc.balanceOf(who) for name, who in people.items()}

    def change(self, name):
        return self.usdc.balanceOf(self.people[name]) - self.start[name]


# Who may dispute, and when


@pytest.mark.parametrize("reward", [REWARD, 200 * USDC], ids=["min-bond", "bps-bond"])
def test_agent_disputes_approval_paying_fee_and_bond(chain, usdc, escrow, pool, agent, jobs, reward):
    terms, job_id = jobs.verdict(approve=True, reward=reward)
    bond = bond_of(reward)
    assert escrow.disputeCost(reward) == (FEE, bond)
    agent_before, escrow_before = usdc.balanceOf(agent), usdc.balanceOf(escrow)

    dispute_id, tx = jobs.dispute(terms, agent)

    now = chain.blocks[tx.block_number].timestamp
    assert tx.events.filter(pool.DisputeCreation) == [pool.DisputeCreation(dispute_id, escrow)]
    assert tx.events.filter(escrow.JobDisputed) == [
        escrow.JobDisputed(job_id, agent, dispute_id, FEE, bond, False)
    ]
    assert tx.events.filter(escrow.Dispute) == [
        escrow.Dispute(pool, dispute_id, 0, int.from_bytes(job_id, "big"))
    ]
    assert usdc.balanceOf(agent) == agent_before - FEE - bond
    assert usdc.balanceOf(escrow) == escrow_before + bond  # the fee went on to the pool
    assert pool.roundOf(dispute_id, 0).fee == FEE
    assert escrow.jobState(job_id) == (JobStatus.DISPUTED, jobs.worker, now + DISPUTE_TIMEOUT)
    assert escrow.disputeOf(job_id) == (dispute_id, FEE, bond, False, False, False, Ruling.SPLIT)


@pytest.mark.parametrize("approve", [True, False], ids=["agent-vs-approval", "worker-vs-rejection"])
def test_dispute_accepted_at_the_end_of_the_challenge_window(
    chain, escrow, agent, funded_worker, jobs, approve
):
    terms, job_id = jobs.verdict(approve=approve)
    disputer = agent if approve else funded_worker

    chain.pending_timestamp = escrow.jobState(job_id)[2]
    jobs.dispute(terms, disputer)

    assert escrow.jobState(job_id)[0] == JobStatus.DISPUTED
    assert escrow.disputeOf(job_id)[3] == (not approve)  # byWorker


@pytest.mark.parametrize("approve", [True, False], ids=["agent-vs-approval", "worker-vs-rejection"])
def test_dispute_reverts_one_second_after_the_challenge_window(
    chain, escrow, agent, funded_worker, jobs, approve
):
    terms, job_id = jobs.verdict(approve=approve)
    disputer = agent if approve else funded_worker
    status = JobStatus.APPROVED if approve else JobStatus.REJECTED

    chain.pending_timestamp = escrow.jobState(job_id)[2] + 1
    with reverts(escrow.NotDisputable, jobId=job_id, status=status, caller=disputer):
        jobs.dispute(terms, disputer)


@pytest.mark.parametrize("approve", [True, False], ids=["approval", "rejection"])
def test_dispute_reverts_not_disputable_for_the_wrong_party(
    escrow, agent, funded_worker, stranger, jobs, approve
):
    terms, job_id = jobs.verdict(approve=approve)
    status = JobStatus.APPROVED if approve else JobStatus.REJECTED
    winner = funded_worker if approve else agent

    for caller in (winner, stranger):
        with reverts(escrow.NotDisputable, jobId=job_id, status=status, caller=caller):
            jobs.dispute(terms, caller)


@pytest.mark.parametrize("by_worker", [False, True], ids=["agent", "worker"])
def test_either_party_disputes_after_the_oracle_missed_verify_by(
    chain, usdc, escrow, registry, agent, funded_worker, jobs, by_worker
):
    terms, job_id = jobs.submitted()
    verify_by = escrow.jobState(job_id)[2]
    disputer = funded_worker if by_worker else agent

    chain.pending_timestamp = verify_by  # the oracle may still verify: nothing to dispute yet
    with reverts(escrow.NotDisputable, jobId=job_id, status=JobStatus.SUBMITTED, caller=disputer):
        jobs.dispute(terms, disputer)
    chain.pending_timestamp = verify_by + 1
    before = usdc.balanceOf(disputer)
    jobs.dispute(terms, disputer)

    assert usdc.balanceOf(disputer) == before - FEE - BOND
    assert escrow.disputeOf(job_id)[3] == by_worker
    assert registry.profile(funded_worker).activeJobs == 0  # capacity is freed at the dispute


def test_dispute_after_missed_verification_closes_with_the_challenge_window(
    chain, escrow, agent, funded_worker, stranger, jobs
):
    terms, job_id = jobs.submitted()
    last = escrow.jobState(job_id)[2] + CHALLENGE_WINDOW

    chain.pending_timestamp = last
    with reverts(escrow.NotDisputable, jobId=job_id, status=JobStatus.SUBMITTED, caller=stranger):
        jobs.dispute(terms, stranger)
    chain.pending_timestamp = last + 1
    with reverts(escrow.NotDisputable, jobId=job_id, status=JobStatus.SUBMITTED, caller=agent):
        jobs.dispute(terms, agent)


def test_dispute_reverts_not_disputable_in_other_statuses(
    chain, escrow, agent, worker, flow, make_terms, jobs
):
    terms = make_terms(challenge_window=CHALLENGE_WINDOW)
    job_id, _ = flow.post(terms)
    with reverts(escrow.NotDisputable, jobId=job_id, status=JobStatus.OPEN, caller=agent):
        jobs.dispute(terms, agent)
    flow.accept(job_id, terms, worker)
    with reverts(escrow.NotDisputable, jobId=job_id, status=JobStatus.ACCEPTED, caller=agent):
        jobs.dispute(terms, agent)

    approved, approved_id = jobs.verdict(approve=True)
    with reverts(escrow.NotDisputable, jobId=approved_id, status=JobStatus.APPROVED, caller=agent):
        jobs.dispute(approved, agent, from_reward=True)  # only the worker may bond with the reward
    jobs.dispute(approved, agent)
    with reverts(escrow.NotDisputable, jobId=approved_id, status=JobStatus.DISPUTED, caller=agent):
        jobs.dispute(approved, agent)

    paid, paid_id = jobs.verdict(approve=True)
    chain.pending_timestamp = escrow.jobState(paid_id)[2] + 1
    escrow.settle(paid.as_abi(), sender=agent)
    with reverts(escrow.NotDisputable, jobId=paid_id, status=JobStatus.PAID, caller=agent):
        jobs.dispute(paid, agent)


def test_worker_without_funds_disputes_rejection_with_the_reward(usdc, escrow, pool, worker, jobs):
    terms, job_id = jobs.verdict(approve=False)
    assert usdc.balanceOf(worker) == 0
    escrow_before, pool_before = usdc.balanceOf(escrow), usdc.balanceOf(pool)

    dispute_id, tx = jobs.dispute(terms, worker, from_reward=True)

    assert tx.events.filter(escrow.JobDisputed) == [
        escrow.JobDisputed(job_id, worker, dispute_id, FEE, BOND, True)
    ]
    assert usdc.balanceOf(escrow) == escrow_before - FEE
    assert usdc.balanceOf(pool) == pool_before + FEE  # the fee moved from the escrow to the pool
    assert escrow.disputeOf(job_id)[3:5] == (True, True)


def test_dispute_with_the_reward_reverts_when_fee_and_bond_exceed_half_of_it(escrow, worker, jobs):
    needed = FEE + PARAMS.dispute_bond_min  # a split must leave the worker enough to repay them
    small, small_id = jobs.verdict(approve=False, reward=2 * needed - 1)
    exact, exact_id = jobs.verdict(approve=False, reward=2 * needed)

    with reverts(escrow.BondExceedsReward, jobId=small_id, needed=needed, reward=2 * needed - 1):
        jobs.dispute(small, worker, from_reward=True)
    jobs.dispute(exact, worker, from_reward=True)

    assert escrow.jobState(exact_id)[0] == JobStatus.DISPUTED


# Rulings and the money


def test_refund_ruling_on_an_approval_refunds_agent_and_slashes_the_oracle(court):
    money = Money(court.usdc, agent=court.agent, worker=court.worker, oracle=court.oracle)
    terms, job_id = court.jobs.verdict(approve=True)
    assert court.oracle.verdictAttesters(job_id) == 0b011
    dispute_id, _ = court.jobs.dispute(terms, court.agent)

    tx = court.rule_and_settle(dispute_id, terms, Ruling.REFUND_AGENT)

    assert tx.events.filter(court.escrow.DisputeSettled) == [
        court.escrow.DisputeSettled(job_id, Ruling.REFUND_AGENT, True, True)
    ]
    assert tx.events.filter(court.escrow.AgentRefunded) == [
        court.escrow.AgentRefunded(job_id, court.agent, REWARD + PROTOCOL_FEE + BOND, REFUND_BY_RULING)
    ]
    assert tx.events.filter(court.oracle.Slashed) == [
        court.oracle.Slashed(job_id, op, SLASH) for op in court.operators[:2]
    ]
    assert tx.events.filter(court.escrow.OracleSlashed) == [
        court.escrow.OracleSlashed(job_id, SLASHED, TO_DISPUTER)
    ]
    assert [court.oracle.operatorOf(op).stake for op in court.operators] == [PARAMS.min_stake - SLASH] * 2 + [
        PARAMS.min_stake
    ]
    assert court.oracle.verdictAttesters(job_id) == 0
    assert money.change("oracle") == -SLASHED
    assert court.escrow.creditOf(court.agent) == TO_DISPUTER
    assert court.escrow.protocolFeesAccrued() == TO_TREASURY
    assert court.pool.rewardReserve() == 0
    assert court.registry.profile(court.worker).disputesLost == 1
    assert court.escrow.jobState(job_id)[0] == JobStatus.REFUNDED
    court.check_books([court.agent, court.worker, *court.operators])
    # Paid everything, got everything back, and was reimbursed the fee plus a share of the slash.
    assert money.change("agent") == -PARAMS.oracle_fee + TO_DISPUTER - FEE
    assert money.change("worker") == 0


def test_pay_ruling_on_an_approval_forfeits_the_agents_bond(court):
    money = Money(court.usdc, agent=court.agent, worker=court.worker)
    terms, job_id = court.jobs.verdict(approve=True)
    dispute_id, _ = court.jobs.dispute(terms, court.agent)

    tx = court.rule_and_settle(dispute_id, terms, Ruling.PAY_WORKER)

    assert tx.events.filter(court.escrow.DisputeSettled) == [
        court.escrow.DisputeSettled(job_id, Ruling.PAY_WORKER, False, False)
    ]
    assert tx.events.filter(court.pool.RewardsFunded) == [court.pool.RewardsFunded(court.escrow, POOL_SHARE)]
    assert tx.events.filter(court.oracle.Slashed) == []
    assert court.pool.rewardReserve() == POOL_SHARE
    assert court.escrow.protocolFeesAccrued() == PROTOCOL_FEE
    assert court.escrow.creditOf(court.agent) == 0
    assert court.registry.profile(court.worker).completed == 1
    assert court.registry.profile(court.worker).disputesLost == 0
    assert court.escrow.jobState(job_id)[0] == JobStatus.PAID
    court.check_books([court.agent, court.worker, *court.operators])
    assert money.change("worker") == REWARD + BOND - POOL_SHARE
    assert money.change("agent") == -(terms.total + FEE + BOND)


def test_split_ruling_on_an_approval_halves_reward_and_protocol_fee(court):
    money = Money(court.usdc, agent=court.agent, worker=court.worker)
    terms, job_id = court.jobs.verdict(approve=True)
    dispute_id, _ = court.jobs.dispute(terms, court.agent)

    tx = court.rule_and_settle(dispute_id, terms, Ruling.SPLIT)

    assert tx.events.filter(court.escrow.DisputeSettled) == [
        court.escrow.DisputeSettled(job_id, Ruling.SPLIT, False, False)
    ]
    assert tx.events.filter(court.oracle.Slashed) == []
    assert court.escrow.protocolFeesAccrued() == PROTOCOL_FEE // 2
    assert court.pool.rewardReserve() == 0
    assert court.registry.profile(court.worker).disputesLost == 0
    court.check_books([court.agent, court.worker, *court.operators])
    assert money.change("worker") == REWARD // 2
    # The bond comes back; the fee is the price of disputing.
    assert money.change("agent") == -(terms.total + FEE) + (REWARD - REWARD // 2) + (
        PROTOCOL_FEE - PROTOCOL_FEE // 2
    )


def test_pay_ruling_on_a_rejection_pays_worker_and_slashes_the_oracle(court, funded_worker):
    worker = funded_worker
    money = Money(court.usdc, agent=court.agent, worker=worker)
    terms, job_id = court.jobs.verdict(approve=False)
    dispute_id, _ = court.jobs.dispute(terms, worker)

    tx = court.rule_and_settle(dispute_id, terms, Ruling.PAY_WORKER)

    assert tx.events.filter(court.escrow.DisputeSettled) == [
        court.escrow.DisputeSettled(job_id, Ruling.PAY_WORKER, True, True)
    ]
    assert tx.events.filter(court.escrow.WorkerPaid) == [
        court.escrow.WorkerPaid(job_id, worker, REWARD + BOND, PROTOCOL_FEE)
    ]
    assert tx.events.filter(court.oracle.Slashed) == [
        court.oracle.Slashed(job_id, op, SLASH) for op in court.operators[:2]
    ]
    assert court.escrow.creditOf(worker) == TO_DISPUTER
    assert court.escrow.protocolFeesAccrued() == PROTOCOL_FEE + TO_TREASURY
    assert court.registry.profile(worker).completed == 1
    court.check_books([court.agent, worker, *court.operators])
    assert money.change("worker") == REWARD - FEE + TO_DISPUTER
    assert money.change("agent") == -terms.total


def test_refund_ruling_on_a_rejection_forfeits_the_workers_bond(court, funded_worker):
    worker = funded_worker
    money = Money(court.usdc, agent=court.agent, worker=worker)
    terms, job_id = court.jobs.verdict(approve=False)
    dispute_id, _ = court.jobs.dispute(terms, worker)

    tx = court.rule_and_settle(dispute_id, terms, Ruling.REFUND_AGENT)

    assert tx.events.filter(court.escrow.DisputeSettled) == [
        court.escrow.DisputeSettled(job_id, Ruling.REFUND_AGENT, False, False)
    ]
    assert tx.events.filter(court.oracle.Slashed) == []
    assert court.pool.rewardReserve() == POOL_SHARE
    assert court.escrow.protocolFeesAccrued() == 0
    assert court.registry.profile(worker).disputesLost == 1
    court.check_books([court.agent, worker, *court.operators])
    assert money.change("worker") == -(FEE + BOND)
    assert money.change("agent") == -PARAMS.oracle_fee + BOND - POOL_SHARE


def test_pay_ruling_on_a_rejection_disputed_with_the_reward(court):
    money = Money(court.usdc, agent=court.agent, worker=court.worker)
    terms, job_id = court.jobs.verdict(approve=False)
    dispute_id, _ = court.jobs.dispute(terms, court.worker, from_reward=True)

    tx = court.rule_and_settle(dispute_id, terms, Ruling.PAY_WORKER)

    assert tx.events.filter(court.escrow.WorkerPaid) == [
        court.escrow.WorkerPaid(job_id, court.worker, REWARD - FEE, PROTOCOL_FEE)
    ]
    assert tx.events.filter(court.escrow.OracleSlashed) == [
        court.escrow.OracleSlashed(job_id, SLASHED, TO_DISPUTER)
    ]
    assert court.escrow.protocolFeesAccrued() == PROTOCOL_FEE + TO_TREASURY
    court.check_books([court.agent, court.worker, *court.operators])
    assert money.change("worker") == REWARD - FEE + TO_DISPUTER
    assert money.change("agent") == -terms.total


def test_refund_ruling_on_a_rejection_disputed_with_the_reward_costs_the_agent_at_most_the_fee(court):
    money = Money(court.usdc, agent=court.agent, worker=court.worker)
    terms, _ = court.jobs.verdict(approve=False)
    dispute_id, _ = court.jobs.dispute(terms, court.worker, from_reward=True)

    court.rule_and_settle(dispute_id, terms, Ruling.REFUND_AGENT)

    court.check_books([court.agent, court.worker, *court.operators])
    assert money.change("worker") == 0
    assert money.change("agent") == -PARAMS.oracle_fee - FEE


def test_split_ruling_on_a_rejection_disputed_with_the_reward_charges_only_the_worker(court):
    money = Money(court.usdc, agent=court.agent, worker=court.worker)
    terms, _ = court.jobs.verdict(approve=False)
    dispute_id, _ = court.jobs.dispute(terms, court.worker, from_reward=True)

    court.rule_and_settle(dispute_id, terms, Ruling.SPLIT)

    court.check_books([court.agent, court.worker, *court.operators])
    assert money.change("worker") == REWARD // 2 - FEE
    assert money.change("agent") == -terms.total + (REWARD - REWARD // 2) + (PROTOCOL_FEE - PROTOCOL_FEE // 2)


@pytest.mark.parametrize(
    ("ruling", "status"),
    [(Ruling.SPLIT, JobStatus.PAID), (Ruling.REFUND_AGENT, JobStatus.REFUNDED)],
    ids=["split", "refund"],
)
def test_smallest_reward_a_worker_may_borrow_from_is_paid_only_with_worker_paid(court, ruling, status):
    reward = 2 * (FEE + PARAMS.dispute_bond_min)
    money = Money(court.usdc, agent=court.agent, worker=court.worker)
    terms, job_id = court.jobs.verdict(approve=False, reward=reward)
    dispute_id, _ = court.jobs.dispute(terms, court.worker, from_reward=True)

    tx = court.rule_and_settle(dispute_id, terms, ruling)

    assert court.escrow.jobState(job_id)[0] == status
    paid = tx.events.filter(court.escrow.WorkerPaid)
    assert (len(paid) == 1) == (status == JobStatus.PAID)
    court.check_books([court.agent, court.worker, *court.operators])
    if ruling == Ruling.SPLIT:
        assert money.change("worker") == reward // 2 - FEE > 0
        assert money.change("agent") == -terms.total + (reward - reward // 2) + (
            terms.protocol_fee - terms.protocol_fee // 2
        )
    else:
        assert money.change("worker") == 0


@pytest.mark.parametrize("ruling", [Ruling.PAY_WORKER, Ruling.REFUND_AGENT], ids=["pay", "refund"])
def test_ruling_after_missed_verification_returns_the_oracle_fee_and_slashes_nobody(court, ruling):
    money = Money(court.usdc, agent=court.agent, worker=court.worker)
    terms, job_id = court.jobs.submitted()
    court.chain.pending_timestamp = court.escrow.jobState(job_id)[2] + 1
    dispute_id, _ = court.jobs.dispute(terms, court.agent)

    tx = court.rule_and_settle(dispute_id, terms, ruling)

    paid = ruling == Ruling.PAY_WORKER
    assert tx.events.filter(court.escrow.DisputeSettled) == [
        court.escrow.DisputeSettled(job_id, ruling, not paid, False)
    ]
    assert tx.events.filter(court.oracle.Slashed) == []
    court.check_books([court.agent, court.worker, *court.operators])
    if paid:  # the agent disputed and was wrong: its bond goes to the worker, less the pool's share
        assert money.change("worker") == REWARD + BOND - POOL_SHARE
        assert money.change("agent") == -(REWARD + PROTOCOL_FEE + FEE + BOND)
    else:
        assert money.change("worker") == 0
        assert money.change("agent") == -FEE


def test_dispute_without_a_ruling_settles_as_a_split_after_the_timeout(court):
    money = Money(court.usdc, agent=court.agent, worker=court.worker)
    terms, job_id = court.jobs.verdict(approve=True)
    dispute_id, _ = court.jobs.dispute(terms, court.agent)
    timeout = court.escrow.jobState(job_id)[2]

    court.chain.pending_timestamp = timeout
    with reverts(court.escrow.NothingToSettle, jobId=job_id, status=JobStatus.DISPUTED, notBefore=timeout):
        court.escrow.settle(terms.as_abi(), sender=court.stranger)
    court.chain.pending_timestamp = timeout + 1
    tx = court.escrow.settle(terms.as_abi(), sender=court.stranger)

    assert tx.events.filter(court.escrow.DisputeSettled) == [
        court.escrow.DisputeSettled(job_id, Ruling.SPLIT, False, False)
    ]
    assert tx.events.filter(court.oracle.Slashed) == []
    assert court.escrow.protocolFeesAccrued() == PROTOCOL_FEE // 2
    assert court.registry.profile(court.worker).disputesLost == 0
    after = court.usdc.balanceOf(court.escrow)

    # A ruling that arrives late is recorded and moves nothing: the round nobody drew by its drawBy
    # (a draw after it could see stakes placed once the seed was public) lapses to a split.
    court.pool.executeRuling(dispute_id, sender=court.stranger)
    assert court.escrow.disputeOf(job_id)[5:] == (True, Ruling.SPLIT)
    assert court.usdc.balanceOf(court.escrow) == after
    with reverts(court.escrow.NothingToSettle, jobId=job_id, status=JobStatus.PAID):
        court.escrow.settle(terms.as_abi(), sender=court.stranger)
    court.check_books([court.agent, court.worker, *court.operators])
    assert money.change("worker") == REWARD // 2
    assert money.change("agent") == -(terms.total + FEE) + (REWARD - REWARD // 2) + (
        PROTOCOL_FEE - PROTOCOL_FEE // 2
    )


# Evidence and callbacks


def test_meta_evidence_is_emitted_at_deployment(chain, escrow):
    receipt = chain.get_receipt(escrow.txn_hash)

    assert receipt.events.filter(escrow.MetaEvidence) == [escrow.MetaEvidence(0, PARAMS.meta_evidence_uri)]


def test_parties_submit_dispute_evidence_to_the_jobs_evidence_group(escrow, pool, agent, worker, jobs):
    terms, job_id = jobs.verdict(approve=True)
    with reverts(escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.APPROVED, expected=JobStatus.DISPUTED):
        escrow.submitDisputeEvidence(job_id, "ipfs://too-early", sender=agent)
    jobs.dispute(terms, agent)
    group = int.from_bytes(job_id, "big")

    for party, uri in ((agent, "ipfs://agent-says"), (worker, "ipfs://worker-says")):
        tx = escrow.submitDisputeEvidence(job_id, uri, sender=party)
        assert tx.events == [escrow.Evidence(pool, group, party, uri)]


def test_rule_reverts_for_callers_other_than_the_arbitrator(escrow, stranger, agent, jobs):
    terms, _ = jobs.verdict(approve=True)
    dispute_id, _ = jobs.dispute(terms, agent)

    with reverts(escrow.CallerNotArbitrator, caller=stranger):
        escrow.rule(dispute_id, Ruling.REFUND_AGENT, sender=stranger)
