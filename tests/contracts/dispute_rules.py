"""Disputes in the protocol state machine: the agent disputes approvals, the arbitrator's ruling
arrives at any moment (before or after the escrow's timeout), and an overturned verdict slashes
every operator who attested it in full, however the operators unstaked and withdrew meanwhile."""

from typing import Any

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from devtools.system import PARAMS
from protocol_core.enums import JobStatus, RulingOption
from tests.contracts.machine_helpers import ANY_REVERT, ESCROW, ORACLE, Dispute, Job

POOL = "pool"  # the arbitration pool's token balance in `Model.balances` (not compared)
FEE = 3 * PARAMS.fee_per_arbitrator  # the pool's cost of a first panel of three
DISPUTE_TIMEOUT = 30 * 24 * 3600  # JobEscrow.DISPUTE_TIMEOUT
SLASH = PARAMS.oracle_slash


def bond_of(reward: int) -> int:
    """`RulingMath.bond` with the deployment's parameters."""
    return max(PARAMS.dispute_bond_min, reward * PARAMS.dispute_bond_bps // 10_000)


def _approved(machine: Any, j: Job) -> bool:
    """The agent may dispute this approval now."""
    return j.status == JobStatus.APPROVED and machine.now <= j.deadline


def _missed(machine: Any, j: Job) -> bool:
    """The oracle missed its deadline and the job is disputable: a case this machine leaves out."""
    window_end = j.deadline + j.terms.challenge_window
    return j.status == JobStatus.SUBMITTED and j.deadline < machine.now <= window_end


def _unruled(j: Job) -> bool:
    return j.dispute is not None and j.dispute.ruling is None


class DisputeRules:
    """Rules and model steps mixed into ProtocolMachine (which provides m, e, o, world, now, send,
    refused and _job). The reentrant token's world has no disputes: its model counts callbacks."""

    m: Any
    e: Any
    o: Any
    world: Any
    now: int
    send: Any
    refused: Any
    _job: Any

    @rule(index=st.integers(0, 63), any_job=st.sampled_from([False, False, False, True]))
    @precondition(lambda self: not self.world.reentrant and any(_approved(self, j) for j in self.m.jobs))
    def agent_disputes(self, index: int, any_job: bool) -> None:
        """The agent disputes an approval (a stray draw: any job not disputable otherwise)."""
        job = self._job(index, any_job, lambda s, j: _approved(s, j) or (any_job and not _missed(s, j)))
        agent, e, m, at = self.world.agent, self.e, self.m, self.now
        args = (job.terms.as_abi(), False)
        if not _approved(self, job):
            return self.refused(
                e.NotDisputable, e.dispute, *args, sender=agent,
                jobId=job.id, status=job.status, caller=str(agent.address),
            )  # fmt: skip
        fee, bond = FEE, bond_of(job.terms.reward)
        assert e.disputeCost(job.terms.reward) == (fee, bond)
        if job.terms.agent in m.blacklisted:
            return self.refused(ANY_REVERT, e.dispute, *args, sender=agent)
        tx = self.send(e.dispute, *args, sender=agent)
        assert self.o.VerdictHeld(job.id, sum(1 << i for i in job.verdict_by)) in tx.events
        m.transfer(job.terms.agent, ESCROW, fee + bond)
        m.transfer(ESCROW, POOL, fee)
        job.status, job.deadline = JobStatus.DISPUTED, at + DISPUTE_TIMEOUT
        job.dispute = Dispute(tx.events.filter(e.JobDisputed)[0].disputeId, fee, bond)

    @rule(index=st.integers(0, 63), ruling=st.sampled_from([2, 2, 2, 1, 0, 3]))
    @precondition(lambda self: any(_unruled(j) for j in self.m.jobs))
    def arbitrator_rules(self, index: int, ruling: int) -> None:
        """The ruling arrives, at any moment: before the timeout, or after it (then it moves money
        only if nobody settled the dispute yet). A number out of range is a refusal: a split."""
        jobs = [j for j in self.m.jobs if _unruled(j)]
        dispute = jobs[index % len(jobs)].dispute
        assert dispute is not None
        self.send(self.e.rule, dispute.id, ruling, sender=self.world.arbitrator)
        dispute.ruling = ruling if ruling <= RulingOption.REFUND_AGENT else RulingOption.SPLIT

    def disputed_verdicts(self, who: int) -> int:
        """`VerificationOracle.disputedVerdicts` of operator `who`: unsettled disputes of its verdicts."""
        return sum(1 for j in self.m.jobs if j.status == JobStatus.DISPUTED and who in j.verdict_by)

    def settle_dispute(self, job: Job) -> None:
        """`settle` of a disputed job, ruled or timed out; an overturning ruling slashes the attesters."""
        m, t, d = self.m, job.terms, job.dispute
        assert d is not None and job.worker is not None
        ruling = RulingOption(RulingOption.SPLIT if d.ruling is None else d.ruling)
        tx = self.send(self.e.settle, t.as_abi(), sender=self.world.keeper)
        to_pool = 0
        if ruling == RulingOption.PAY_WORKER:  # the agent was wrong: its bond goes to the worker
            to_pool = d.bond * PARAMS.bond_pool_share_bps // 10_000
            to_worker, to_agent, treasury = t.reward + d.bond - to_pool, 0, t.protocol_fee
            m.worker(job.worker).completed += 1
        elif ruling == RulingOption.REFUND_AGENT:
            to_worker, to_agent, treasury = 0, t.reward + t.protocol_fee + d.bond, 0
        else:
            to_worker, treasury = t.reward // 2, t.protocol_fee // 2
            to_agent = t.reward - to_worker + t.protocol_fee - treasury + d.bond
        job.status = JobStatus.PAID if to_worker else JobStatus.REFUNDED
        m.protocol_fees += treasury
        m.push(job.worker, to_worker)
        m.push(t.agent, to_agent)
        if to_pool:
            m.transfer(ESCROW, POOL, to_pool)
        slashed = [(str(s.operator), s.amount) for s in tx.events.filter(self.o.Slashed)]
        overturned = ruling == RulingOption.REFUND_AGENT
        assert self.o.VerdictReleased(job.id, sum(1 << i for i in job.verdict_by), overturned) in tx.events
        assert slashed == (self._slash(job) if overturned else []), f"slashed {slashed}"
        event(f"dispute settled {'by ruling ' + ruling.name if d.ruling is not None else 'at timeout'}")
        if overturned and any(m.operators[i].unstaking for i in job.verdict_by):
            event("overturned verdict slashed an attester that was unstaking")

    def _slash(self, job: Job) -> list[tuple[str, int]]:
        """Each attester loses `slashPerOperator`, or all it has if less (stake first); and what it
        had staked when it attested, less what other overturned verdicts took since, is still there:
        neither unstaking nor removal let it leave before this ruling."""
        m, d, expected = self.m, job.dispute, []
        assert d is not None
        for i in job.verdict_by:
            op = m.operators[i]
            take = min(SLASH, op.stake + op.unstaking)
            staked_then, slashed_then = job.liable[i]
            still_liable = staked_then - (op.slashed - slashed_then)
            assert take >= min(SLASH, still_liable), (
                f"operator {i} attested with {staked_then} staked, {still_liable} of it still liable, "
                f"but holds only {op.stake + op.unstaking} when the overturning ruling is carried out"
            )
            from_stake = min(op.stake, take)
            op.stake -= from_stake
            op.unstaking -= take - from_stake
            op.slashed += take
            expected.append((op.address, take))
        total = sum(amount for _, amount in expected)
        m.transfer(ORACLE, ESCROW, total)
        reimbursed = min(total, d.fee)
        wronged = (total - reimbursed) * PARAMS.wronged_share_bps // 10_000
        m.credit(job.terms.agent, reimbursed + wronged)
        m.protocol_fees += total - reimbursed - wronged
        return expected
