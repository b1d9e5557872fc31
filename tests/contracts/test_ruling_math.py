"""RulingMath on its own: who gets what when a disputed job settles, against a model of docs/protocol.md.

Every example is one or two pure calls to TestRulingMath (no transaction, no chain state), so the
properties run over many cases: conservation (the parts add up to what the escrow holds for the
job), non-negativity (the contract's checked arithmetic never underflows, and the model agrees) and
the documented rules of disputes, bonds, loans from the reward and slashing.
"""

from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol_core.enums import JobStatus
from protocol_core.enums import RulingOption as Ruling

UINT64 = 2**64 - 1
UINT96 = 2**96 - 1
BPS = 10_000

settings.register_profile(
    "ruling-math",
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the per-test snapshot: nothing is written
)
PROFILE = settings.get_profile("ruling-math")  # passed explicitly: loading it would change other files


@dataclass(frozen=True)
class Job:
    """The amounts of a job's terms that a ruling divides."""

    reward: int
    oracle_fee: int
    protocol_fee: int


@dataclass(frozen=True)
class Dispute:
    """A dispute as the escrow records it (`RulingMath.Dispute`)."""

    fee: int
    bond: int
    disputed: JobStatus  # APPROVED, REJECTED, or SUBMITTED when the oracle missed its deadline
    by_worker: bool
    from_reward: bool
    ruled: bool
    ruling: Ruling  # SPLIT while not ruled (a timeout)

    def as_abi(self) -> tuple:
        """The tuple the contract takes; the dispute id plays no part in the arithmetic."""
        flags = (self.by_worker, self.from_reward, self.ruled)
        return (7, self.fee, self.bond, self.disputed, *flags, self.ruling)


@dataclass(frozen=True)
class Shares:
    """Where the money of a settled dispute goes."""

    worker: int
    agent: int
    treasury: int
    pool: int

    def total(self) -> int:
        """Everything paid out."""
        return self.worker + self.agent + self.treasury + self.pool


def held(job: Job, d: Dispute) -> int:
    """What the escrow holds for a disputed job: posting brought reward and both fees; a verdict
    paid the oracle fee out to its attesters; the disputer brought fee and bond, and the fee went on
    to the arbitrator, except that a worker who borrowed them brought nothing and the fee left the
    reward."""
    amount = job.reward + job.protocol_fee
    if d.disputed == JobStatus.SUBMITTED:
        amount += job.oracle_fee
    return amount - d.fee if d.from_reward else amount + d.bond


def model(job: Job, d: Dispute, pool_bps: int) -> Shares:
    """docs/protocol.md, "Disputes and arbitration", as a table of who gets what."""
    disputer_wrong = d.ruling == (Ruling.REFUND_AGENT if d.by_worker else Ruling.PAY_WORKER)
    worker = agent = treasury = pool = 0
    if d.disputed == JobStatus.SUBMITTED:  # the oracle missed its deadline: it earned nothing
        agent += job.oracle_fee
    if d.ruling == Ruling.PAY_WORKER:
        worker, treasury = job.reward, job.protocol_fee
    elif d.ruling == Ruling.REFUND_AGENT:
        agent += job.reward + job.protocol_fee
    else:  # halves; the agent takes the odd unit
        worker, treasury = job.reward // 2, job.protocol_fee // 2
        agent += job.reward - worker + job.protocol_fee - treasury
    if not disputer_wrong:
        bond_to_worker, bond_to_agent = (d.bond, 0) if d.by_worker else (0, d.bond)
    else:  # a borrowed bond was the agent's money all along: it goes back whole
        pool = 0 if d.from_reward else d.bond * pool_bps // BPS
        bond_to_worker, bond_to_agent = (d.bond - pool, 0) if not d.by_worker else (0, d.bond - pool)
    worker, agent = worker + bond_to_worker, agent + bond_to_agent
    if d.from_reward:  # the loan comes out of the worker's share; the agent covers what it cannot
        loan = d.fee + d.bond
        repaid = min(worker, loan)
        worker, agent = worker - repaid, agent - (loan - repaid)
    shares = Shares(worker, agent, treasury, pool)
    assert min(worker, agent, treasury, pool) >= 0, f"the model itself went negative: {shares}"
    return shares


amounts = st.one_of(st.integers(0, 10**9), st.integers(0, UINT64))  # USDC-sized, and the type's range
rewards = st.one_of(st.integers(1, 10**10), st.integers(1, UINT96))
basis_points = st.one_of(st.sampled_from([0, 2_000, 5_000, BPS]), st.integers(0, BPS))


@st.composite
def disputes(draw: st.DrawFn, reward: int, borrowed: bool | None = None) -> Dispute:
    """A dispute the escrow could hold for a job with `reward` (`borrowed` forces `from_reward`)."""
    disputed = draw(st.sampled_from([JobStatus.APPROVED, JobStatus.REJECTED, JobStatus.SUBMITTED]))
    # The agent disputes an approval, the worker a rejection, either a verification that never came.
    if disputed == JobStatus.SUBMITTED:
        by_worker = True if borrowed else draw(st.booleans())
    else:
        by_worker = disputed == JobStatus.REJECTED
    if borrowed and not by_worker:
        disputed, by_worker = JobStatus.REJECTED, True
    from_reward = by_worker and (draw(st.booleans()) if borrowed is None else borrowed)
    if from_reward:  # fee + bond within half the reward (the escrow refuses more)
        loan = draw(st.integers(0, min(reward // 2, 2 * UINT64)))
        fee = draw(st.integers(max(0, loan - UINT64), min(loan, UINT64)))
        bond = loan - fee
    else:
        fee, bond = draw(amounts), draw(amounts)
    ruled = draw(st.booleans())
    ruling = draw(st.sampled_from(Ruling)) if ruled else Ruling.SPLIT
    return Dispute(fee, bond, disputed, by_worker, from_reward, ruled, ruling)


@st.composite
def cases(draw: st.DrawFn, borrowed: bool | None = None) -> tuple[Job, Dispute, int]:
    """A job, its dispute and the pool's share of a forfeited bond, in basis points."""
    job = Job(reward=draw(rewards), oracle_fee=draw(amounts), protocol_fee=draw(amounts))
    return job, draw(disputes(job.reward, borrowed)), draw(basis_points)


@pytest.fixture(scope="module")
def ruling_math(project, deployer):
    return deployer.deploy(project.TestRulingMath)


def _settle(ruling_math, job: Job, d: Dispute, pool_bps: int) -> tuple[Shares, bool, bool, bool]:
    """Shares, and whether the disputer was right, wrong, and the oracle's verdict overturned."""
    *parts, right, wrong, overturned = ruling_math.settle(
        d.as_abi(), job.reward, job.oracle_fee, job.protocol_fee, pool_bps
    )
    return Shares(*parts), right, wrong, overturned


@settings(PROFILE)
@given(case=cases())
def test_shares_add_up_to_what_the_escrow_holds_and_follow_the_model(ruling_math, case):
    job, d, pool_bps = case

    shares, *_ = _settle(ruling_math, job, d, pool_bps)  # reverts on any underflow

    assert shares == model(job, d, pool_bps)
    assert shares.total() == held(job, d)


@settings(PROFILE)
@given(case=cases())
def test_the_ruling_decides_who_was_right_and_whether_the_oracle_is_slashed(ruling_math, case):
    job, d, pool_bps = case

    _, right, wrong, overturned = _settle(ruling_math, job, d, pool_bps)

    assert right == (d.ruling == (Ruling.PAY_WORKER if d.by_worker else Ruling.REFUND_AGENT))
    assert wrong == (d.ruling == (Ruling.REFUND_AGENT if d.by_worker else Ruling.PAY_WORKER))
    assert not (right and wrong) and (d.ruling != Ruling.SPLIT or not (right or wrong))  # a split: neither
    against_verdict = (d.disputed == JobStatus.APPROVED and d.ruling == Ruling.REFUND_AGENT) or (
        d.disputed == JobStatus.REJECTED and d.ruling == Ruling.PAY_WORKER
    )
    assert overturned == (d.ruled and against_verdict)  # never on a timeout, nor without a verdict


@settings(PROFILE)
@given(case=cases())
def test_the_bond_comes_back_unless_the_disputer_was_wrong(ruling_math, case):
    _, d, pool_bps = case
    wrong = d.ruling == (Ruling.REFUND_AGENT if d.by_worker else Ruling.PAY_WORKER)

    to_disputer, to_other, to_pool = ruling_math.bondShares(d.as_abi(), pool_bps)

    if not wrong:
        assert (to_disputer, to_other, to_pool) == (d.bond, 0, 0)
    elif d.from_reward:
        assert (to_disputer, to_other, to_pool) == (0, d.bond, 0)  # back to the agent whole
    else:
        assert (to_disputer, to_pool) == (0, d.bond * pool_bps // BPS)
        assert to_other + to_pool == d.bond


@settings(PROFILE)
@given(case=cases(borrowed=True))
def test_a_borrowing_worker_pays_for_its_dispute_unless_it_loses(ruling_math, case):
    job, borrowed, pool_bps = case
    paid = replace(borrowed, from_reward=False)  # the same dispute, paid out of the worker's pocket
    loan = borrowed.fee + borrowed.bond
    missed_fee = job.oracle_fee if borrowed.disputed == JobStatus.SUBMITTED else 0

    with_loan, *_ = _settle(ruling_math, job, borrowed, pool_bps)
    without, *_ = _settle(ruling_math, job, paid, pool_bps)

    assert with_loan.treasury == without.treasury
    if borrowed.ruling == Ruling.REFUND_AGENT:  # the worker lost: the agent carries the fee, nothing more
        assert (with_loan.worker, with_loan.pool) == (0, 0)
        assert with_loan.agent == job.reward + job.protocol_fee + missed_fee - borrowed.fee
    else:  # shares as if the worker had paid, the loan repaid from its own
        assert with_loan.worker == without.worker - loan
        assert (with_loan.agent, with_loan.pool) == (without.agent, 0)
    if borrowed.ruling == Ruling.SPLIT:  # half the reward covers the loan
        assert with_loan.worker == job.reward // 2 - borrowed.fee >= borrowed.bond


@settings(PROFILE)
@given(reward=rewards, data=st.data())
def test_a_worker_borrows_at_most_half_the_reward(ruling_math, reward, data):
    half = reward // 2
    loan = data.draw(st.one_of(st.integers(max(0, half - 2), half + 2), st.integers(0, UINT96)))
    fee = data.draw(st.integers(0, loan))

    assert ruling_math.mayBorrow(reward, fee, loan - fee) == (loan <= half)


@settings(PROFILE)
@given(
    slashed=st.one_of(st.integers(0, 10**9), st.integers(0, 2**128)),
    fee=amounts,
    wronged_bps=basis_points,
)
def test_slashed_stake_reimburses_the_fee_first_then_shares_the_rest(ruling_math, slashed, fee, wronged_bps):
    reimbursed = min(slashed, fee)

    to_disputer, to_protocol = ruling_math.slashShares(slashed, fee, wronged_bps)

    assert to_disputer + to_protocol == slashed
    assert to_disputer == reimbursed + (slashed - reimbursed) * wronged_bps // BPS


@settings(PROFILE)
@given(reward=rewards, bps=st.integers(0, 2**16 - 1), minimum=st.integers(0, UINT96))
def test_the_bond_is_a_share_of_the_reward_with_a_floor(ruling_math, reward, bps, minimum):
    assert ruling_math.bond(reward, bps, minimum) == max(minimum, reward * bps // BPS)


@settings(PROFILE)
@given(ruling=st.one_of(st.integers(0, 3), st.integers(0, 2**256 - 1)))
def test_a_ruling_out_of_range_is_a_refusal_to_arbitrate(ruling_math, ruling):
    assert ruling_math.option(ruling) == (ruling if ruling <= Ruling.REFUND_AGENT else Ruling.SPLIT)
