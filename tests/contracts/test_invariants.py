"""Money and monotonicity invariants: the people of the protocol act at random; the chain must match a model.

A hypothesis state machine plays the agent, three workers, three staked operators (quorum 2),
governance, a keeper and the clock against one deployment per token. After every step the chain is
read in one batch and checked (machine_helpers.Model is the expected state):

1. the escrow holds exactly the funds of unsettled jobs + all credits + operators' oracle fees +
   accrued protocol fees, and the oracle exactly the operators' stakes; every tracked balance,
   credit and operator's fee is the model's;
2. a job's status never moves to a lower value;
3. a worker's `activeJobs` is the number of its jobs in Accepted or Submitted.

Each example runs between `chain.snapshot()` and `chain.restore()` and ends by settling every job
far in the future and withdrawing every credit, which must leave the escrow empty. Anvil mines
blocks exactly one second apart (`anvil_setBlockTimestampInterval`), so the model knows every
transaction's timestamp and deadline boundaries are hit exactly.
"""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ape
import ape_ethereum.trace
import pytest
from ape import chain
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from devtools.reverts import reverts as strict_reverts
from devtools.system import PARAMS
from protocol_core.deployment import deploy_system
from protocol_core.eip712 import sign_attestation
from protocol_core.enums import Ineligibility, JobStatus
from protocol_core.relayed import sign_acceptance, sign_evidence
from protocol_core.terms import ZERO_ADDRESS, JobTerms, Requirements
from tests.contracts.dispute_rules import DisputeRules
from tests.contracts.machine_helpers import (
    ANY_REVERT,
    ESCROW,
    FINAL,
    ORACLE,
    WORKING,
    ChainView,
    Job,
    Model,
    Operator,
    Worker,
)

MAX_UINT = 2**256 - 1
MAX_CHALLENGE_WINDOW = 30 * 24 * 3600  # JobEscrow.MAX_CHALLENGE_WINDOW
MAX_PROTOCOL_FEE_BPS = 1_000  # JobEscrow.MAX_PROTOCOL_FEE_BPS
AGENT_FUNDS = 10**15
OPERATOR_FUNDS = 3 * PARAMS.min_stake  # one stake staked at deployment, two to top up with
EVIDENCE = [keccak(b"bundle-a"), keccak(b"bundle-b")]
PROFILES = [(0b11, 0b1, 2), (0b10, 0b1, 1), (0b01, 0b0, 3)]  # (languages, expertise, maxConcurrent)

settings.register_profile(
    "invariants",
    deadline=None,
    max_examples=15,
    stateful_step_count=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
PROFILE = settings.get_profile("invariants")  # passed explicitly: loading it would change other files


@dataclass
class World:
    """One deployment and the people who use it."""

    token: Any
    registry: Any
    oracle: Any
    escrow: Any
    governance: Any
    agent: Any
    workers: list[Any]
    operators: list[Any]
    treasury: Any
    recovery: Any  # where a blacklisted account withdraws to
    keeper: Any
    reentrant: bool
    arbitrator: Any  # the pool's address, impersonated: its rulings arrive whenever the machine says

    def people(self) -> list[Any]:
        """Everyone whose token balance and credit the model tracks."""
        return [self.agent, *self.workers, *self.operators, self.treasury, self.recovery, self.keeper]


def _deploy(project: Any, accounts: Any, token: Any, reentrant: bool) -> World:
    governance = accounts[0]
    system = deploy_system(project, governance, token, PARAMS, treasury=str(accounts[8].address))
    w = World(
        token=token,
        registry=system.registry,
        oracle=system.oracle,
        escrow=system.escrow,
        governance=governance,
        agent=accounts[1],
        workers=list(accounts[2:5]),
        operators=list(accounts[5:8]),
        treasury=accounts[8],
        recovery=accounts[9],
        keeper=accounts[10],
        reentrant=reentrant,
        arbitrator=accounts.impersonate_account(system.arbitrator.address),
    )
    w.arbitrator.balance = 10**20
    for op in w.operators:
        w.oracle.addOperator(op, sender=governance)
        token.mint(op, OPERATOR_FUNDS, sender=op)
        token.approve(w.oracle, MAX_UINT, sender=op)
        w.oracle.stake(PARAMS.min_stake, sender=op)
    token.mint(w.agent, AGENT_FUNDS, sender=w.agent)
    token.approve(w.escrow, MAX_UINT, sender=w.agent)
    for worker, (languages, expertise, capacity) in zip(w.workers, PROFILES, strict=True):
        w.registry.register(languages, expertise, capacity, keccak(b"x25519"), "ipfs://w", sender=worker)
    return w


@pytest.fixture(scope="module")
def usdc_world(project, accounts):
    return _deploy(project, accounts, accounts[0].deploy(project.TestUSDC), reentrant=False)


@pytest.fixture(scope="module")
def reentrant_world(project, accounts):
    return _deploy(project, accounts, accounts[0].deploy(project.TestReentrantToken), reentrant=True)


@pytest.fixture
def steady_clock():
    """Every block one second after the previous one, whatever the wall clock does."""
    chain.provider.make_request("anvil_setBlockTimestampInterval", [1])
    yield
    chain.provider.make_request("anvil_removeBlockTimestampInterval", [])


@pytest.fixture
def quiet_traces(monkeypatch):
    """ape-foundry renders a call trace for every revert; hundreds are expected here and a third of
    each revert's time went into drawing them."""
    monkeypatch.setattr(ape_ethereum.trace.Trace, "show", lambda *_args, **_kwargs: None)


@contextmanager
def reverts(error: Any, **inputs: Any) -> Iterator[None]:
    """`ape.reverts(error, **inputs)` that also fails when the revert is another custom error.

    Lighter than conftest's `reverts` (no trace per revert), which the budget of hundreds of
    expected reverts per run needs; the error's name and inputs are still checked.
    """
    if error is ANY_REVERT:
        with ape.reverts():
            yield
        return
    with ape.reverts(error, **inputs) as info:
        yield
    assert type(info.value).__name__ == error.__name__, (
        f"expected {error.__name__}{inputs}, got {info.value!r}"
    )


def _address(account: Any) -> str:
    return str(account.address)


Wanted = Callable[["ProtocolMachine", Job], bool]


def _open(self: "ProtocolMachine", j: Job) -> bool:
    return j.status == JobStatus.OPEN and self.now <= j.terms.accept_by


def _accepted(self: "ProtocolMachine", j: Job) -> bool:
    return j.status == JobStatus.ACCEPTED and self.now <= j.deadline


def _submitted(self: "ProtocolMachine", j: Job) -> bool:
    return j.status == JobStatus.SUBMITTED and self.now <= j.deadline


def _due(self: "ProtocolMachine", j: Job) -> bool:
    return j.settleable(self.now)


def some(wanted: Wanted) -> Any:
    """Runs a rule only while a job is `wanted`; the rule's stray draws still hit any job."""
    return precondition(lambda self: any(wanted(self, j) for j in self.m.jobs))


pick = st.integers(0, 63)  # index into a pool of candidate jobs or accounts
stray = st.sampled_from([False, False, False, True])  # True: act on any job, usually a wrong one
job_terms = {
    "reward": st.integers(1, 1_000_000_000),
    "window": st.sampled_from([0, 0, 60, 3600, 86_400, MAX_CHALLENGE_WINDOW]),
    "offer": st.sampled_from([None, None, 0, 1, 2]),
    "accept_in": st.sampled_from([3600, 600, 86_400, 1]),
    "resolve_in": st.sampled_from([3600, 7200, 600, 1]),
    "language": st.sampled_from([0, 1]),
    "expertise": st.sampled_from([0, 1]),
}
# How far `open_jobs` takes a job: not accepted, accepted, or submitted with these votes.
STAGES: dict[str, tuple[bool, ...] | None] = {
    "open": None,
    "accepted": None,
    "submitted": (),
    "attested": (True,),
    "split": (True, False),
    "approved": (True, True),
    "rejected": (False, False),
}


class ProtocolMachine(DisputeRules, RuleBasedStateMachine):
    """The agent, three workers, three operators (quorum 2), governance, a keeper, the arbitrator
    and the clock."""

    world: World  # set by the test that runs the machine

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        self._snapshot = chain.snapshot()
        self.e, self.o, self.r, self.t = w.escrow, w.oracle, w.registry, w.token
        self.view = ChainView(chain.provider.web3)
        people = [_address(p) for p in w.people()]
        for holder in [*people, w.escrow.address, w.oracle.address]:
            self.view.add(w.token.address, "balanceOf(address)", (str(holder),), ("uint256",))
        self.view.add(w.oracle.address, "setNonce()", (), ("uint64",))
        values, latest = self.view.execute()
        self.m = Model(
            balances=dict(zip([*people, ESCROW, ORACLE], (v[0] for v in values[:-1]), strict=True)),
            credits={},
            workers=[Worker(_address(a), *p) for a, p in zip(w.workers, PROFILES, strict=True)],
            operators=[Operator(_address(op), PARAMS.min_stake) for op in w.operators],
            oracle_fee=PARAMS.oracle_fee,
            protocol_fee_bps=PARAMS.protocol_fee_bps,
            set_nonce=values[-1][0],
            quorum=w.oracle.quorum(),
        )
        self.clock = latest  # timestamp of the latest block; the next transaction gets clock + 1
        self.highest: dict[bytes, int] = {}  # highest status seen on chain, per job
        self.posted = 0
        self.reentry: tuple[str, Job | None] | None = None  # what the armed token calls back into

    @property
    def now(self) -> int:
        """The timestamp the next transaction will have."""
        return self.clock + 1

    def send(self, method: Any, *args: Any, sender: Any) -> Any:
        """A transaction the model expects to succeed."""
        self.clock += 1
        return method(*args, sender=sender)

    def refused(self, error: Any, method: Any, *args: Any, sender: Any, **inputs: Any) -> None:
        """A transaction the model expects to revert with `error(**inputs)`; it still mines a block."""
        self.clock += 1
        with reverts(error, **inputs):
            method(*args, sender=sender)

    def _job(self, index: int, any_job: bool, wanted: Wanted) -> Job:
        """A job that is `wanted`, or with `any_job` any job at all."""
        pool = self.m.jobs if any_job else [j for j in self.m.jobs if wanted(self, j)]
        return pool[index % len(pool)]

    def _other_terms(self, job: Job) -> JobTerms:
        """Terms of another job: the first other one posted, or one never posted."""
        others = [j for j in self.m.jobs if j is not job]
        return (
            others[0].terms if others else job.terms.model_copy(update={"spec_hash": keccak(b"never posted")})
        )

    def _can_attest(self, op: Operator) -> bool:
        return op.active and op.stake >= PARAMS.min_stake

    def _ineligibility(self, who: int, terms: JobTerms) -> Ineligibility:
        """`WorkerRegistry.eligibility` of worker `who` for `terms`."""
        p, req = self.m.workers[who], terms.requirements
        if not p.available:
            return Ineligibility.UNAVAILABLE
        if not p.languages >> req.language & 1:
            return Ineligibility.LANGUAGE
        if p.expertise & req.expertise != req.expertise:
            return Ineligibility.EXPERTISE
        if self.m.active_jobs(p.address) >= p.max_concurrent:
            return Ineligibility.AT_CAPACITY
        return Ineligibility.NONE

    def _reenter_outside_escrow(self) -> None:
        """The armed token calls back from an oracle transfer, where the escrow is not locked."""
        if not self.m.armed or self.reentry is None:
            return
        kind, job = self.reentry
        if kind == "settle" and job is not None and job.settleable(self.now):
            self.m.callbacks_succeeded += 1
            self.m.settle(job)
        elif kind == "collect" and self.m.protocol_fees:
            self.m.callbacks_succeeded += 1
            fees, self.m.protocol_fees = self.m.protocol_fees, 0
            self.m.push(_address(self.world.treasury), fees)

    # -- the agent -----------------------------------------------------------------------------

    @initialize(
        jobs=st.lists(
            st.tuples(st.fixed_dictionaries(job_terms), st.sampled_from(list(STAGES))), min_size=1, max_size=4
        )
    )
    def open_jobs(self, jobs):
        """Starts each example with jobs at several stages, so that few steps reach every state."""
        for params, stage in jobs:
            posted = len(self.m.jobs)
            self.post(**params, mistake=None, permit=False)
            if len(self.m.jobs) == posted:  # the agent is blacklisted
                continue
            job, votes = self.m.jobs[-1], STAGES[stage]
            if stage != "open":
                self._accept(job, None)
            if votes is not None and job.status == JobStatus.ACCEPTED:
                self._submit(job, None, 0)
            for who, approve in enumerate(votes or ()):
                if job.status == JobStatus.SUBMITTED:
                    self._attest(job, who, approve, honest=True)

    @rule(
        **job_terms,
        mistake=st.sampled_from([None] * 6 + ["reward", "acceptBy", "resolveBy", "challengeWindow", "fee"]),
        permit=st.booleans(),
    )
    def post(self, reward, window, offer, accept_in, resolve_in, language, expertise, mistake, permit):
        now, m, agent = self.now, self.m, self.world.agent
        oracle_fee, protocol_fee = m.quote(reward)
        self.posted += 1
        accept_by = now + (0 if mistake == "acceptBy" else accept_in)
        terms = JobTerms(
            agent=_address(agent),
            reward=0 if mistake == "reward" else reward,
            oracle_fee=oracle_fee + (mistake == "fee"),
            protocol_fee=0 if mistake == "reward" else protocol_fee,
            offered_to=ZERO_ADDRESS if offer is None else _address(self.world.workers[offer]),
            accept_by=accept_by,
            resolve_by=accept_by + (0 if mistake == "resolveBy" else resolve_in),
            challenge_window=MAX_CHALLENGE_WINDOW + 1 if mistake == "challengeWindow" else window,
            spec_hash=keccak(b"spec %d" % self.posted),
            requirements=Requirements(language=language, expertise=expertise),
        )
        # A bad permit signature is ignored when the allowance covers the job, as the agent's does.
        bad_permit = (now + 60, 27, b"\1" * 32, b"\2" * 32)
        call, args = (
            (self.e.postJobWithPermit, (terms.as_abi(), terms.total, *bad_permit))
            if permit
            else (self.e.postJob, (terms.as_abi(),))
        )
        if m.paused:
            return self.refused(self.e.PostingPaused, call, *args, sender=agent)
        if mistake == "fee":
            return self.refused(
                self.e.FeeMismatch, call, *args, sender=agent,
                expectedOracleFee=oracle_fee, expectedProtocolFee=protocol_fee,
            )  # fmt: skip
        if mistake is not None:
            return self.refused(self.e.InvalidTerms, call, *args, sender=agent, field=mistake)
        if terms.agent in m.blacklisted:
            return self.refused(ANY_REVERT, call, *args, sender=agent)
        self.send(call, *args, sender=agent)
        m.transfer(terms.agent, ESCROW, terms.total)
        m.jobs.append(Job(terms=terms, id=terms.digest(), deadline=terms.accept_by))

    @rule(index=pick, any_job=stray, by_agent=st.sampled_from([True, True, True, False]))
    @some(_open)
    def cancel(self, index, any_job, by_agent):
        job, e = self._job(index, any_job, _open), self.e
        sender, args = (self.world.agent if by_agent else self.world.keeper), (job.terms.as_abi(),)
        if job.status != JobStatus.OPEN:
            return self.refused(
                e.JobNotInStatus, e.cancelJob, *args, sender=sender,
                jobId=job.id, actual=job.status, expected=JobStatus.OPEN,
            )  # fmt: skip
        if not by_agent:
            return self.refused(
                e.Unauthorized, e.cancelJob, *args, sender=sender, jobId=job.id, caller=_address(sender)
            )
        self.send(e.cancelJob, *args, sender=sender)
        self.m.refund(job, job.terms.total)

    # -- the workers ---------------------------------------------------------------------------

    @rule(index=pick, any_job=stray, who=st.sampled_from([None, None, None, 0, 1, 2]))
    @some(_open)
    def accept(self, index, any_job, who):
        self._accept(self._job(index, any_job, _open), who)

    @rule(index=pick, any_job=stray, who=st.sampled_from([None, None, None, 0, 1, 2]))
    @some(_open)
    def accept_relayed(self, index, any_job, who):
        """The worker signs its acceptance and the keeper relays it (`acceptJobFor`)."""
        self._accept(self._job(index, any_job, _open), who, relayed=True)

    def _accept(self, job: Job, who: int | None, relayed: bool = False) -> None:
        """`who=None`: the first worker the job is offered to who is eligible, if any."""
        e, t = self.e, job.terms
        if who is None:
            offered = [
                i for i, x in enumerate(self.world.workers) if t.offered_to in (ZERO_ADDRESS, _address(x))
            ]
            who = next((i for i in offered if not self._ineligibility(i, t)), offered[0])
        worker = self.world.workers[who]
        if relayed:
            signed = sign_acceptance(
                worker.private_key, chain_id=chain.chain_id, escrow=str(e.address), job_id=job.id,
                worker=_address(worker), deadline=self.now + 600,
            )  # fmt: skip
            call, args = e.acceptJobFor, (t.as_abi(), worker, signed.deadline, list(signed.signature))
            self._accept_checked(job, who, call, args, self.world.keeper)
        else:
            self._accept_checked(job, who, e.acceptJob, (t.as_abi(),), worker)

    def _accept_checked(self, job: Job, who: int, call: Any, args: tuple, sender: Any) -> None:
        e, t, worker = self.e, job.terms, self.world.workers[who]
        if job.status != JobStatus.OPEN:
            return self.refused(
                e.JobNotInStatus, call, *args, sender=sender,
                jobId=job.id, actual=job.status, expected=JobStatus.OPEN,
            )  # fmt: skip
        if self.now > t.accept_by:
            return self.refused(
                e.DeadlinePassed, call, *args, sender=sender, jobId=job.id, deadline=t.accept_by
            )
        if t.offered_to not in (ZERO_ADDRESS, _address(worker)):
            return self.refused(e.Unauthorized, call, *args, sender=sender, caller=_address(worker))
        if reason := self._ineligibility(who, t):
            return self.refused(
                self.r.WorkerNotEligible, call, *args, sender=sender, worker=_address(worker), reason=reason
            )
        self.send(call, *args, sender=sender)
        job.status, job.worker, job.deadline = JobStatus.ACCEPTED, _address(worker), t.resolve_by

    @rule(
        index=pick,
        any_job=stray,
        other=st.sampled_from([None] * 5 + [0, 1, 2]),
        evidence=st.sampled_from([0, 0, 1, None]),
    )
    @some(_accepted)
    def submit(self, index, any_job, other, evidence):
        self._submit(self._job(index, any_job, _accepted), other, evidence)

    def _submit(self, job: Job, other: int | None, evidence: int | None) -> None:
        """`other=None`: the assigned worker submits; `evidence=None`: an empty hash."""
        e, at = self.e, self.now
        assigned = [x for x in self.world.workers if _address(x) == job.worker]
        sender = self.world.workers[other] if other is not None else (assigned or self.world.workers)[0]
        digest = bytes(32) if evidence is None else EVIDENCE[evidence]
        args = (job.id, digest, "ipfs://bundle")
        if job.status != JobStatus.ACCEPTED:
            return self.refused(
                e.JobNotInStatus, e.submitEvidence, *args, sender=sender,
                jobId=job.id, actual=job.status, expected=JobStatus.ACCEPTED,
            )  # fmt: skip
        if _address(sender) != job.worker:
            return self.refused(
                e.Unauthorized, e.submitEvidence, *args, sender=sender, caller=_address(sender)
            )
        if at > job.deadline:
            return self.refused(
                e.DeadlinePassed, e.submitEvidence, *args, sender=sender, deadline=job.deadline
            )
        if evidence is None:
            return self.refused(e.EmptyEvidence, e.submitEvidence, *args, sender=sender, jobId=job.id)
        self.send(e.submitEvidence, *args, sender=sender)
        job.status, job.evidence, job.deadline = JobStatus.SUBMITTED, digest, at + PARAMS.verification_window

    @rule(who=st.integers(0, 2), available=st.booleans())
    def set_availability(self, who, available):
        self.send(self.r.setAvailability, available, sender=self.world.workers[who])
        self.m.workers[who].available = available

    @rule(account=pick, any_account=stray, elsewhere=st.booleans())
    @precondition(lambda self: bool(self.m.credits))
    def withdraw(self, account, any_account, elsewhere):
        """Someone with credit (a stray draw: anyone) withdraws it to itself or elsewhere."""
        people = self.world.people()
        owed = [p for p in people if self.m.credits.get(_address(p))]
        pool = people if any_account or not owed else owed
        sender = pool[account % len(pool)]
        self._withdraw(sender, self.world.recovery if elsewhere else sender)

    def _withdraw(self, sender: Any, to: Any) -> None:
        amount = self.m.credits.get(_address(sender), 0)
        if amount == 0:
            return self.refused(
                self.e.NothingToWithdraw, self.e.withdraw, to, sender=sender, account=_address(sender)
            )
        if _address(to) in self.m.blacklisted:
            return self.refused(ANY_REVERT, self.e.withdraw, to, sender=sender)
        self.send(self.e.withdraw, to, sender=sender)
        self.m.credits[_address(sender)] = 0
        self.m.transfer(ESCROW, _address(to), amount)

    @rule(account=pick, any_account=stray, elsewhere=st.booleans())
    @precondition(lambda self: any(self.m.operator_fees.values()))
    def withdraw_operator_fees(self, account, any_account, elsewhere):
        """An operator with oracle fees (a stray draw: anyone) withdraws them to itself or elsewhere."""
        people = self.world.people()
        owed = [p for p in self.world.operators if self.m.operator_fees.get(_address(p))]
        pool = people if any_account or not owed else owed
        sender = pool[account % len(pool)]
        self._withdraw_operator_fees(sender, self.world.recovery if elsewhere else sender)

    def _withdraw_operator_fees(self, sender: Any, to: Any) -> None:
        amount = self.m.operator_fees.get(_address(sender), 0)
        if amount == 0:
            return self.refused(
                self.e.NothingToWithdraw, self.e.withdrawOperatorFees, to, sender=sender,
                account=_address(sender),
            )  # fmt: skip
        if _address(to) in self.m.blacklisted:
            return self.refused(ANY_REVERT, self.e.withdrawOperatorFees, to, sender=sender)
        self.send(self.e.withdrawOperatorFees, to, sender=sender)
        self.m.operator_fees[_address(sender)] = 0
        self.m.transfer(ESCROW, _address(to), amount)

    # -- the oracle operators ------------------------------------------------------------------

    @rule(
        index=pick,
        any_job=stray,
        who=st.integers(0, 2),
        approve=st.booleans(),
        honest=st.sampled_from([True] * 7 + [False]),
    )
    @some(_submitted)
    def attest(self, index, any_job, who, approve, honest):
        """`honest=False`: the operator passes another job's terms, which only a final vote uses."""
        self._attest(self._job(index, any_job, _submitted), who, approve, honest)

    def _attest(self, job: Job, who: int, approve: bool, honest: bool) -> None:
        at, o = self.now, self.o
        op, sender = self.m.operators[who], self.world.operators[who]
        terms = job.terms if honest else self._other_terms(job)
        args = (job.id, job.evidence or bytes(32), approve, 0, terms.as_abi())
        if not self._can_attest(op):
            return self.refused(o.NotActiveOperator, o.attest, *args, sender=sender, account=op.address)
        if job.status != JobStatus.SUBMITTED:
            return self.refused(
                o.NotAwaitingVerification, o.attest, *args, sender=sender, jobId=job.id, status=job.status
            )
        if at > job.deadline:
            return self.refused(o.VerificationClosed, o.attest, *args, sender=sender, verifyBy=job.deadline)
        if who in job.approvals + job.rejections:
            return self.refused(o.AlreadyAttested, o.attest, *args, sender=sender, operator=op.address)
        side = job.approvals if approve else job.rejections
        final = len(side) + 1 >= self.m.quorum
        if final and not honest:
            return self.refused(
                o.TermsNotForJob, o.attest, *args, sender=sender, jobId=job.id, termsId=terms.digest()
            )
        self.send(o.attest, *args, sender=sender)
        side.append(who)
        job.liable[who] = (op.stake, op.slashed)
        if final:
            job.verdict_by = sorted(side)
            self.m.record_verdict(job, approve, [self.m.operators[i].address for i in sorted(side)], at)

    @rule(
        index=pick,
        any_job=stray,
        signers=st.permutations([0, 1, 2]),
        count=st.sampled_from([1, 1, 2, 2, 3, 0]),
        fresh=st.sampled_from([True, True, True, False]),
        honest=st.sampled_from([True] * 7 + [False]),
    )
    @some(_submitted)
    def relay_signatures(self, index, any_job, signers, count, fresh, honest):
        """Anyone submits operators' EIP-712 approvals, which add to approvals already attested.

        `fresh`: only operators who have not attested the job yet sign, as an aggregator would pick.
        `count=0`: a stranger tries to finalize with earlier attestations alone (say after the
        quorum was lowered), which needs at least one current signature.
        """
        job, o, e, keeper = self._job(index, any_job, _submitted), self.o, self.e, self.world.keeper
        seen = set(job.approvals + job.rejections)
        signers = [i for i in signers if not (fresh and i in seen)][:count] or signers[:count]
        evidence = job.evidence or bytes(32)
        signatures = [self._sign(i, job.id, evidence) for i in signers]
        terms = job.terms if honest else self._other_terms(job)
        args = (job.id, evidence, True, 0, terms.as_abi(), signatures)
        if not signers:
            return self.refused(
                o.NoCurrentAttestation, o.attestWithSignatures, *args, sender=keeper,
                jobId=job.id, setNonce=self.m.set_nonce,
            )  # fmt: skip
        for i in signers:
            op = self.m.operators[i]
            if not self._can_attest(op):
                return self.refused(
                    o.NotActiveOperator, o.attestWithSignatures, *args, sender=keeper, account=op.address
                )
            if i in seen:
                return self.refused(
                    o.AlreadyAttested, o.attestWithSignatures, *args, sender=keeper, operator=op.address
                )
            seen.add(i)
        valid = len(job.approvals) + len(signers)
        if valid < self.m.quorum:
            return self.refused(
                o.QuorumNotReached,
                o.attestWithSignatures,
                *args,
                sender=keeper,
                valid=valid,
                quorum=self.m.quorum,
            )
        if not honest:
            return self.refused(
                o.TermsNotForJob,
                o.attestWithSignatures,
                *args,
                sender=keeper,
                jobId=job.id,
                termsId=terms.digest(),
            )
        if job.status != JobStatus.SUBMITTED:
            return self.refused(
                e.JobNotInStatus, o.attestWithSignatures, *args, sender=keeper,
                actual=job.status, expected=JobStatus.SUBMITTED,
            )  # fmt: skip
        if self.now > job.deadline:
            return self.refused(
                e.DeadlinePassed, o.attestWithSignatures, *args, sender=keeper, deadline=job.deadline
            )
        at = self.now
        self.send(o.attestWithSignatures, *args, sender=keeper)
        job.liable.update({i: (self.m.operators[i].stake, self.m.operators[i].slashed) for i in signers})
        job.verdict_by = sorted([*job.approvals, *signers])
        attesters = [self.m.operators[i].address for i in [*sorted(job.approvals), *signers]]
        self.m.record_verdict(job, True, attesters, at)

    def _sign(self, who: int, job_id: bytes, evidence: bytes, approve: bool = True) -> list[bytes]:
        """Operator `who`'s EIP-712 verdict on `evidence` for `job_id`, as its node signs it."""
        return sign_attestation(
            self.world.operators[who].private_key,
            chain_id=chain.chain_id,
            oracle=str(self.o.address),
            job_id=job_id,
            evidence_hash=evidence,
            approve=approve,
            reason=0,
            set_nonce=self.m.set_nonce,
        )

    @rule(
        index=pick,
        any_job=stray,
        signers=st.permutations([0, 1, 2]),
        count=st.sampled_from([2, 2, 2, 3, 1]),
        approve=st.sampled_from([True, True, True, False]),
        by_worker=st.sampled_from([True] * 7 + [False]),
    )
    @some(_accepted)
    def submit_and_attest(self, index, any_job, signers, count, approve, by_worker):
        """The keeper sends the worker's signed evidence with the quorum's signed verdict in one
        transaction (`submitAndAttest`); `by_worker=False`: another worker signed the evidence."""
        job, o, e, at = self._job(index, any_job, _accepted), self.o, self.e, self.now
        keeper = self.world.keeper
        chosen, assigned = list(signers[:count]), job.worker or _address(self.world.workers[0])
        signer = next(x for x in self.world.workers if (_address(x) == assigned) == by_worker)
        evidence = sign_evidence(
            signer.private_key, chain_id=chain.chain_id, escrow=str(e.address), job_id=job.id,
            evidence_hash=EVIDENCE[0], uri="ipfs://bundle", deadline=at + 600,
        )  # fmt: skip
        sigs = [self._sign(i, job.id, EVIDENCE[0], approve) for i in chosen]
        args, call = (job.terms.as_abi(), evidence.as_abi(), approve, 0, sigs), o.submitAndAttest
        if inactive := [self.m.operators[i] for i in chosen if not self._can_attest(self.m.operators[i])]:
            return self.refused(o.NotActiveOperator, call, *args, sender=keeper, account=inactive[0].address)
        if count < self.m.quorum:
            return self.refused(
                o.QuorumNotReached, call, *args, sender=keeper,
                jobId=job.id, valid=count, quorum=self.m.quorum,
            )  # fmt: skip
        if job.status != JobStatus.ACCEPTED:
            return self.refused(
                e.JobNotInStatus, call, *args, sender=keeper,
                jobId=job.id, actual=job.status, expected=JobStatus.ACCEPTED,
            )  # fmt: skip
        if not by_worker:  # the escrow's error, bubbled up through the oracle: the strict helper
            self.clock += 1
            with strict_reverts(e.InvalidSigner, jobId=job.id, signer=_address(signer), expected=job.worker):
                call(*args, sender=keeper)
            return None
        if at > job.deadline:
            return self.refused(
                e.DeadlinePassed, call, *args, sender=keeper, jobId=job.id, deadline=job.deadline
            )
        self.send(call, *args, sender=keeper)
        job.liable.update({i: (self.m.operators[i].stake, self.m.operators[i].slashed) for i in chosen})
        job.verdict_by = sorted(chosen)
        self.m.record_verdict(job, approve, [self.m.operators[i].address for i in chosen], at)

    @rule(
        who=st.integers(0, 2),
        action=st.sampled_from(["unstake", "withdraw", "top up"]),
        amount=st.sampled_from(["all", "half", "one", "zero", "too much"]),
    )
    def manage_stake(self, who, action, amount):
        op, sender, o = self.m.operators[who], self.world.operators[who], self.o
        if action == "unstake":
            amounts = {"all": op.stake, "half": op.stake // 2, "one": 1, "zero": 0, "too much": op.stake + 1}
            value = amounts[amount]
            if value == 0 or value > op.stake:
                return self.refused(
                    o.StakeLocked, o.requestUnstake, value, sender=sender,
                    operator=op.address, requested=value, available=op.stake, unstakeAt=0,
                )  # fmt: skip
            if op.unstaking:  # an amount still unstaking keeps its own delay
                return self.refused(
                    o.UnstakePending, o.requestUnstake, value, sender=sender,
                    operator=op.address, pending=op.unstaking, unstakeAt=op.unstake_at,
                )  # fmt: skip
            at = self.now
            self.send(o.requestUnstake, value, sender=sender)
            op.stake -= value
            op.unstaking = value
            op.unstake_at = at + PARAMS.oracle_unstake_delay
        elif action == "withdraw":
            if op.unstaking == 0 or self.now < op.unstake_at:
                return self.refused(
                    o.StakeLocked, o.withdrawStake, sender=sender,
                    operator=op.address, requested=op.unstaking, available=0, unstakeAt=op.unstake_at,
                )  # fmt: skip
            if held := self.disputed_verdicts(who):
                event("withdrawal held by a disputed verdict")
                return self.refused(
                    o.StakeHeldByDisputes, o.withdrawStake, sender=sender,
                    operator=op.address, disputedVerdicts=held,
                )  # fmt: skip
            self._reenter_outside_escrow()
            self.send(o.withdrawStake, sender=sender)
            self.m.transfer(ORACLE, op.address, op.unstaking)
            op.unstaking = 0
        else:
            value = {"half": PARAMS.min_stake // 2, "one": 1}.get(amount, PARAMS.min_stake)
            if self.m.balances[op.address] < value:
                return self.refused(ANY_REVERT, o.stake, value, sender=sender)
            self._reenter_outside_escrow()
            self.send(o.stake, value, sender=sender)
            self.m.transfer(op.address, ORACLE, value)
            op.stake += value

    # -- governance ----------------------------------------------------------------------------

    @rule(
        action=st.sampled_from(
            ["fees", "fees", "pause", "unpause", "unpause", "add operator", "remove operator", "quorum"]
        ),
        bps=st.sampled_from([100, 0, 250, MAX_PROTOCOL_FEE_BPS, MAX_PROTOCOL_FEE_BPS + 1]),
        fee=st.sampled_from(
            [PARAMS.oracle_fee, 0, 1, 333_333, PARAMS.max_oracle_fee, PARAMS.max_oracle_fee + 1]
        ),
        who=st.integers(0, 2),
        by_governance=st.sampled_from([True, True, True, False]),
    )
    def govern(self, action, bps, fee, who, by_governance):
        e, o, operator = self.e, self.o, self.m.operators[who]
        sender = self.world.governance if by_governance else self.world.keeper
        if action == "fees":
            call, args = e.setFees, (bps, fee)
        elif action.endswith("pause"):
            call, args = e.setPaused, (action == "pause",)
        elif action == "quorum":  # 1 to 3: a lower quorum may meet a split tally already on chain
            call, args = o.setQuorum, (who + 1,)
        else:
            call = o.addOperator if action == "add operator" else o.removeOperator
            args = (operator.address,)
        if not by_governance:
            return self.refused(
                call.contract.OwnableUnauthorizedAccount, call, *args, sender=sender, account=_address(sender)
            )
        if action == "fees" and bps > MAX_PROTOCOL_FEE_BPS:
            return self.refused(e.FeeAboveCap, call, *args, sender=sender, fee=bps, cap=MAX_PROTOCOL_FEE_BPS)
        if action == "fees" and fee > PARAMS.max_oracle_fee:
            return self.refused(e.FeeAboveCap, call, *args, sender=sender, fee=fee, cap=PARAMS.max_oracle_fee)
        if action.endswith("operator") and operator.active == (action == "add operator"):
            return self.refused(o.OperatorStateUnchanged, call, *args, sender=sender, active=operator.active)
        self.send(call, *args, sender=sender)
        if action == "fees":
            self.m.protocol_fee_bps, self.m.oracle_fee = bps, fee
        elif action.endswith("pause"):
            self.m.paused = action == "pause"
        elif action == "quorum":
            self.m.quorum = who + 1
            self.m.set_nonce += 1
        else:
            operator.active = action == "add operator"
            self.m.set_nonce += 1

    # -- the keeper and the clock --------------------------------------------------------------

    @rule(index=pick, any_job=stray)
    @some(_due)
    def settle(self, index, any_job):
        self._settle(self._job(index, any_job, _due))

    def _settle(self, job: Job) -> None:
        if not job.settleable(self.now):
            return self.refused(
                self.e.NothingToSettle, self.e.settle, job.terms.as_abi(), sender=self.world.keeper,
                jobId=job.id, status=job.status, notBefore=job.not_before(),
            )  # fmt: skip
        if job.status == JobStatus.DISPUTED:
            return self.settle_dispute(job)
        self.send(self.e.settle, job.terms.as_abi(), sender=self.world.keeper)
        self.m.settle(job)

    @rule()
    @precondition(
        lambda self: self.m.protocol_fees > 0 or any(j.status == JobStatus.PAID for j in self.m.jobs)
    )
    def collect_protocol_fees(self):
        e, fees, treasury = self.e, self.m.protocol_fees, _address(self.world.treasury)
        if fees == 0:
            return self.refused(
                e.NothingToWithdraw, e.collectProtocolFees, sender=self.world.keeper, account=treasury
            )
        self.send(e.collectProtocolFees, sender=self.world.keeper)
        self.m.protocol_fees = 0
        self.m.push(treasury, fees)

    @rule(
        seconds=st.sampled_from(
            [60, 1, 600, 600, 1800, 1800, 3600, 3601, 7200, 86_400, 8 * 86_400, 31 * 86_400]
        )
    )
    def advance_time(self, seconds):
        self.clock += seconds
        chain.mine(1, timestamp=self.clock)

    # A job needs several steps from posting to payout; the aliases make those rules likelier.
    accept_again, submit_again, attest_again, attest_third, settle_again = (
        accept,
        submit,
        attest,
        attest,
        settle,
    )

    # -- what must always hold -----------------------------------------------------------------

    @invariant()
    def chain_matches_model(self):
        self.check_chain()

    def check_chain(self) -> dict[str, int]:
        """Reads everything in one batch, checks the invariants and returns the escrow's books."""
        w, m, v = self.world, self.m, self.view
        people = [_address(p) for p in w.people()]
        for holder in [*people, w.escrow.address, w.oracle.address]:
            v.add(w.token.address, "balanceOf(address)", (str(holder),), ("uint256",))
        for p in people:
            v.add(w.escrow.address, "creditOf(address)", (p,), ("uint256",))
        for op in m.operators:
            v.add(w.escrow.address, "operatorFeesOf(address)", (op.address,), ("uint256",))
        v.add(w.escrow.address, "protocolFeesAccrued()", (), ("uint96",))
        for job in m.jobs:
            v.add(w.escrow.address, "jobState(bytes32)", (job.id,), ("uint8", "address", "uint40"))
        profile = ("uint64", "uint64", "uint32", "uint8", "uint8", "bool", "uint32", "uint16", "uint16")
        for wk in m.workers:
            v.add(w.registry.address, "profile(address)", (wk.address,), profile)
        for op in m.operators:
            v.add(
                w.oracle.address,
                "operatorOf(address)",
                (op.address,),
                ("uint96", "uint96", "uint40", "uint8", "bool"),
            )
        if w.reentrant:
            v.add(w.token.address, "callbacksAttempted()", (), ("uint256",))
            v.add(w.token.address, "callbacksSucceeded()", (), ("uint256",))
        results, latest = v.execute()
        out = iter(results)
        balances = {k: next(out)[0] for k in [*people, ESCROW, ORACLE]}
        credits = {p: next(out)[0] for p in people}
        operator_fees = {op.address: next(out)[0] for op in m.operators}
        fees = next(out)[0]
        states = [(s, to_checksum_address(a), d) for s, a, d in (next(out) for _ in m.jobs)]
        profiles = [next(out) for _ in m.workers]
        operators = [next(out) for _ in m.operators]
        attempted, succeeded = (next(out)[0], next(out)[0]) if w.reentrant else (0, 0)

        assert latest == self.clock, f"the model's clock {self.clock} != latest block {latest}"
        # The hostile token's callbacks get through only where the model says the escrow is idle;
        # checked first because a callback that got through explains every difference below.
        assert succeeded == m.callbacks_succeeded, (
            f"{succeeded} callbacks went through, not {m.callbacks_succeeded}"
        )
        assert attempted == m.callbacks_attempted, f"{attempted} callbacks tried, not {m.callbacks_attempted}"
        # 1. Tokens held == funds of unsettled jobs + credits + fees; the oracle holds the stakes.
        held, owed = sum(j.held for j in m.jobs), sum(credits.values()) + sum(operator_fees.values())
        assert balances[ESCROW] == held + owed + fees, (
            f"escrow holds {balances[ESCROW]}, owes {held} (jobs) + {owed} (credits and operator fees) "
            f"+ {fees} (fees)"
        )
        staked = sum(stake + unstaking for stake, unstaking, *_ in operators)
        assert balances[ORACLE] == staked, f"oracle holds {balances[ORACLE]}, stakes are {staked}"
        assert {k: c for k, c in credits.items() if c} == {k: c for k, c in m.credits.items() if c}
        assert fees == m.protocol_fees, f"protocol fees {fees}, model {m.protocol_fees}"
        assert operator_fees == {a: m.operator_fees.get(a, 0) for a in operator_fees}, operator_fees
        assert balances == {k: m.balances.get(k, 0) for k in balances}
        for op, (stake, unstaking, unstake_at, _, active) in zip(m.operators, operators, strict=True):
            assert (stake, unstaking, unstake_at, active) == (
                op.stake,
                op.unstaking,
                op.unstake_at,
                op.active,
            )
        # 2. A job's status never moves to a lower value, and the job is where the model expects.
        for job, (status, worker, deadline) in zip(m.jobs, states, strict=True):
            before = self.highest.get(job.id, JobStatus.NONE)
            back = f"job 0x{job.id.hex()} went back from {JobStatus(before).name} to {JobStatus(status).name}"
            assert status >= before, back
            self.highest[job.id] = status
            assert (status, worker, deadline) == (job.status, job.worker or ZERO_ADDRESS, job.deadline)
        # 3. A worker's capacity in use is the number of its jobs in Accepted or Submitted on chain.
        for wk, p in zip(m.workers, profiles, strict=True):
            working = sum(1 for s, a, _ in states if a == wk.address and s in WORKING)
            assert p[4] == working, f"{wk.address}: activeJobs {p[4]} but {working} jobs in progress"
            assert (p[5], p[6], p[7]) == (wk.available, wk.completed, wk.missed)
        return {"escrow": balances[ESCROW], "credits": owed, "fees": fees}

    def teardown(self):
        try:
            if sys.exc_info()[0] is None:  # after a failed step, that step's error is the report
                self.settle_everything()
        finally:
            chain.restore(self._snapshot)

    def settle_everything(self) -> None:
        """Far in the future every job ends Paid or Refunded, and every credit can be withdrawn."""
        self.advance_time(MAX_CHALLENGE_WINDOW + 10 * 86_400)
        for job in self.m.jobs:
            if job.status not in FINAL:
                self._settle(job)
        books = self.check_chain()
        assert all(j.status in FINAL for j in self.m.jobs)
        assert books["escrow"] == books["credits"] + books["fees"], books
        if self.m.protocol_fees:
            self.collect_protocol_fees()
        for person in self.world.people():
            if self.m.credits.get(_address(person)):
                stuck = _address(person) in self.m.blacklisted
                self._withdraw(person, self.world.recovery if stuck else person)
        for operator in self.world.operators:
            if self.m.operator_fees.get(_address(operator)):
                self._withdraw_operator_fees(operator, operator)
        assert self.check_chain()["escrow"] == 0


class BlacklistMachine(ProtocolMachine):
    """Circle blacklists a worker (or the agent) now and then: payouts are credited, not pushed."""

    @rule(agent=st.sampled_from([False, False, True]), listed=st.sampled_from([True, True, False]))
    def blacklist(self, agent, listed):
        who = _address(self.world.agent if agent else self.world.workers[0])
        self.send(self.t.setBlacklisted, who, listed, sender=self.world.keeper)
        if listed:
            self.m.blacklisted.add(who)
        else:
            self.m.blacklisted.discard(who)

    blacklist_again = blacklist

    @initialize(agent=st.sampled_from([False, False, True]), listed=st.booleans())
    def blacklist_early(self, agent, listed):
        """Sometimes the blacklisting comes before the first jobs are settled."""
        if listed:
            self.blacklist(agent, listed)


class ReentrantMachine(ProtocolMachine):
    """The token calls back into the escrow on every transfer; no callback may move money twice."""

    @rule(kind=st.sampled_from(["settle", "settle", "withdraw", "collect", "cancel", "off"]), index=pick)
    def arm(self, kind, index):
        job = self.m.jobs[index % len(self.m.jobs)] if self.m.jobs else None
        e, keeper = self.e, self.world.keeper
        if kind == "off" or (job is None and kind in ("settle", "cancel")):
            self.send(self.t.arm, ZERO_ADDRESS, b"", sender=keeper)
            self.m.armed, self.reentry = False, None
            return
        payload = {
            "settle": lambda: e.settle.encode_input(job.terms.as_abi()),
            "cancel": lambda: e.cancelJob.encode_input(job.terms.as_abi()),
            "withdraw": lambda: e.withdraw.encode_input(_address(self.world.recovery)),
            "collect": lambda: e.collectProtocolFees.encode_input(),
        }[kind]()
        self.send(self.t.arm, e.address, payload, sender=keeper)
        self.m.armed, self.reentry = True, (kind, job)


def _run(machine: type[ProtocolMachine], world: World) -> None:
    machine.world = world
    run_state_machine_as_test(machine, settings=PROFILE)


def test_money_and_status_invariants_hold_with_usdc(usdc_world, steady_clock, quiet_traces):
    _run(ProtocolMachine, usdc_world)


def test_money_and_status_invariants_hold_when_usdc_blacklists_payees(usdc_world, steady_clock, quiet_traces):
    _run(BlacklistMachine, usdc_world)


def test_money_and_status_invariants_hold_when_the_token_reenters(
    reentrant_world, steady_clock, quiet_traces
):
    _run(ReentrantMachine, reentrant_world)
