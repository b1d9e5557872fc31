"""Escrow, oracle and arbitration pool under random people: after every step each contract holds
exactly what it owes, job statuses never move back, a final dispute stays final, and stake is locked
exactly for the seats of live disputes. At the end every dispute is driven to a ruling or lapses,
every job settles and every credit is withdrawn: the escrow is empty and nothing stays locked."""

import os
import random
import sys
from collections import Counter
from typing import Any

import ape_ethereum.trace
import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from hypothesis.strategies._internal.featureflags import FeatureFlags

from devtools.reverts import reverts
from devtools.system import PARAMS
from protocol_core.arbitration import commitment
from protocol_core.enums import JobStatus
from tests.contracts.arbitration_helpers import USDC, Phase, Ruling
from tests.contracts.arbitration_machine_helpers import (
    BLOCKHASH_WINDOW,
    DAY,
    DISPUTE_TIMEOUT,
    FEE,
    LOCK,
    MAX_PHASE_MINUTES,
    MAX_STAKE,
    MIN_PHASE_MINUTES,
    MIN_STAKE,
    Batch,
    DisputeModel,
    DisputeRecord,
    JobModel,
    Vote,
    World,
    bond_of,
    deploy_world,
    make_terms,
)
from tests.contracts.arbitration_machine_payouts import expected_payout, rounds_as_paid

settings.register_profile(
    "arbitration-machine",
    deadline=None,
    # CI replays a fixed set of examples so a landing is never decided by chance; local runs explore.
    derandomize=os.environ.get("CI") == "true",
    max_examples=10,
    stateful_step_count=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

MAX_JOBS = 7
# What the run reached, over all its examples; asserted at the end of the test.
REACHED: Counter = Counter()
MUST_REACH = ("draw", "tally", "appeal", "randomness expired", "stake queued", "panels paid as modelled")
MAX_ROUNDS = PARAMS.max_rounds
SETTLED = (JobStatus.PAID, JobStatus.REFUNDED)
DISPUTE_STAGES = (JobStatus.SUBMITTED, JobStatus.APPROVED, JobStatus.REJECTED, JobStatus.DISPUTED)

# Hypothesis favours rules with fewer arguments: the steps that move jobs and disputes forward take
# one (a tuple), the refusals and the bystanders' bookkeeping two or three.
picks = st.integers(min_value=0, max_value=255)
# Where an opening job is brought before the first step: (operator, approves) is an attestation.
OPENINGS = {
    "open": (),
    "accepted": ("accept",),
    "submitted": ("submit",),
    "split tally": ("submit", (0, True), (1, False)),
    "approved": ("submit", (0, True), (1, True)),
    "rejected": ("submit", (1, False), (2, False)),
    "disputed approval": ("submit", (0, True), (2, True), "dispute"),
    "disputed rejection": ("submit", (0, False), (1, False), "dispute"),
    "rejection disputed from the reward": ("submit", (1, False), (2, False), "dispute from reward"),
}
jobs = st.tuples(
    st.sampled_from([40 * USDC, 11 * USDC, 9 * USDC, 12_345_679, 150 * USDC, 400 * USDC]),  # reward
    st.sampled_from([600, 0, 3600, DAY]),  # challenge window; 0 settles at the verdict
    st.sampled_from([DAY, 3600, 60]),  # accept within
    st.sampled_from([DAY, 7200, 60]),  # resolve within, after that
)
dispute_styles = st.tuples(
    st.booleans(),  # by the worker, when either may (the oracle missed its deadline)
    st.booleans(),  # the worker bonds with the reward
    st.sampled_from([None, "interloper", "eager draw"]),  # a refused action first
)
ballots = st.tuples(
    st.lists(st.sampled_from([1, 2, 0, None]), min_size=1, max_size=7),  # votes by seat; None: not now
    st.lists(st.booleans(), min_size=1, max_size=7),  # reveals by seat; False: not now (maybe never)
    st.booleans(),  # an outsider commits, or an arbitrator reveals another choice, first
)
clock_steps = st.sampled_from(
    [
        *("next deadline", "after next deadline", 1, "next deadline", "after next deadline", 1801),
        *("a deadline", "after a deadline", 3601, DAY + 1, 7 * DAY + 1, DISPUTE_TIMEOUT + 1),
    ]
)
stake_sizes = st.sampled_from(["all", "to_min", 1, 10 * USDC, 50 * USDC, 5_000 * USDC])


def choose(items: list[Any], pick: int) -> Any:
    return items[pick % len(items)]


class People(RuleBasedStateMachine):
    """Agent, worker, operators, arbitrators, a keeper and the clock act on one deployment."""

    world: World
    chain: Any

    def __init__(self):
        super().__init__()
        self.snapshot = self.chain.snapshot()
        self.now = self.chain.blocks.head.timestamp
        self.jobs: list[JobModel] = []
        self.disputes: list[DisputeModel] = []
        # As read at the last check of the books:
        self.arbs: dict[str, Any] = {}  # arbitratorOf: arbitrators and governance
        self.ops: dict[str, Any] = {}  # operatorOf
        self.credits: dict[str, int] = {}
        self.operator_fees: dict[str, int] = {}  # oracle fees waiting for `withdrawOperatorFees`
        self.fees = 0
        self.blacklisted: set[str] = set()
        self.serial = 0
        self.late_keepers = False
        self.queue: list[tuple[DisputeModel, int]] = []  # rounds in the order they requested randomness
        self.last_draw_by = 0  # drawBy of the last round opened: the pool is frozen until then at most
        self.queued: dict[str, Any] = {}  # queuedOf, as read at the last check
        # The pool's phase lengths for rounds opened from now on (commit, reveal, appeal minutes).
        self.phases = (PARAMS.commit_minutes, PARAMS.reveal_minutes, PARAMS.appeal_minutes)
        # Swarm testing (a random part of the rules disabled per example) leaves most of ten
        # examples unable to move their disputes; here every rule is enabled and the
        # preconditions alone decide.
        self._rules_strategy.enabled_rules_strategy = st.just(FeatureFlags())

    # Plumbing: every transaction of a step happens at the machine's clock, and the last block is
    # always at that time, so views see what transactions see.

    def send(self, method: Any, *args: Any, sender: Any) -> Any:
        self.chain.provider.set_timestamp(self.now)
        return method(*args, sender=sender)

    def advance(self, to: int) -> None:
        self.now = to
        self.chain.mine(timestamp=to)

    def mine_blocks(self, n: int) -> None:
        for _ in range(n):
            self.chain.provider.set_timestamp(self.now)
            self.chain.provider.mine(1)

    @staticmethod
    def who(account: Any) -> str:
        return str(account.address)

    def live(self) -> list[DisputeModel]:
        return [d for d in self.disputes if d.phase != Phase.FINAL]

    def in_phase(self, phase: int) -> list[DisputeModel]:
        return [d for d in self.disputes if d.phase == phase]

    def jobs_in(self, *statuses: int) -> list[JobModel]:
        return [j for j in self.jobs if j.status in statuses]

    def frozen(self) -> bool:
        """A round waits for its draw: stake changes queue and payments wait."""
        return bool(self.in_phase(Phase.DRAWING)) and self.now <= self.last_draw_by

    def blocker(self, dispute: DisputeModel) -> DisputeModel | None:
        """The first round that requested randomness before this one and may still be drawn."""
        for other, index in self.queue:
            if other is dispute and index == dispute.round:
                return None
            if other.phase == Phase.DRAWING and other.round == index and self.now <= other.current.drawBy:
                return other
        return None

    def opened_round(self, dispute: DisputeModel) -> None:
        self.queue.append((dispute, dispute.round))
        dispute.seeded = False
        self.last_draw_by = self.now + DAY

    def after_apply(self, address: str) -> tuple[int, int, int]:
        """(staked, unstaking, unlockAt) once the arbitrator's queue is applied (not while frozen)."""
        a, (stake_in, out) = self.arbs[address], self.queued.get(address, (0, 0))
        if self.frozen():
            return a.staked, a.unstaking or out, a.unlockAt
        staked, unstaking, unlock_at = a.staked + stake_in, a.unstaking, a.unlockAt
        if out and not (a.locked or out > staked or 0 < staked - out < MIN_STAKE):
            staked, unstaking, unlock_at = staked - out, out, self.now + PARAMS.unstake_delay
        return staked, unstaking, unlock_at

    def eligible(self) -> set[str]:
        """Arbitrators with free stake for one more seat."""
        return {a for a in self.world.arbitrators if self.arbs[a].staked - self.arbs[a].locked >= LOCK}

    # The agent

    def post(self, reward: int, window: int, accept_in: int, resolve_in: int) -> JobModel | None:
        w = self.world
        self.serial += 1
        terms = make_terms(w.agent, self.serial, self.now, reward, window, accept_in, resolve_in)
        if self.who(w.agent) in self.blacklisted:
            with reverts(w.token.Blacklisted, account=w.agent):
                self.send(w.escrow.postJob, terms.as_abi(), sender=w.agent)
            return None
        self.send(w.escrow.postJob, terms.as_abi(), sender=w.agent)
        job = JobModel(terms, terms.digest(), deadline=terms.accept_by)
        self.jobs.append(job)
        note(f"job {len(self.jobs) - 1} is {job.id.hex()}")
        return job

    @initialize(
        openings=st.lists(st.tuples(jobs, st.sampled_from(list(OPENINGS))), min_size=1, max_size=4),
        late_keepers=st.booleans(),
    )
    def agent_posts_first_jobs(self, openings, late_keepers):
        """Each example starts with jobs already at several stages, disputes included, so that
        its few steps reach every phase. (`late_keepers`: at the end, the keepers only come back
        after the dispute timeout, and rounds in progress lose their unrevealed votes.)"""
        self.late_keepers = late_keepers
        for params, opening in openings:
            job = self.post(*params)
            for stage in OPENINGS[opening] if job else ():
                if stage == "accept":
                    self.work(job, submits=False)
                elif stage == "submit":
                    self.work(job, submits=True)
                elif isinstance(stage, tuple):
                    self.attest(job, [stage])
                elif self.disputable() and job in self.disputable():
                    self.dispute(
                        job, by_worker=False, from_reward=stage == "dispute from reward", refused_first=None
                    )

    @precondition(lambda self: len(self.jobs) < MAX_JOBS)
    @rule(job=jobs)
    def agent_posts(self, job):
        self.post(*job)

    @precondition(lambda self: self.jobs_in(JobStatus.OPEN))
    @rule(pick=picks, caller=st.sampled_from(["worker", "agent, a job not open", "agent"]))
    def agent_cancels(self, pick, caller):
        """The agent withdraws an open job; nobody else may, nor a job that is not open."""
        w = self.world
        others = [j for j in self.jobs if j.status != JobStatus.OPEN]
        if caller.endswith("not open") and others:
            job = choose(others, pick)
            with reverts(w.escrow.JobNotInStatus, jobId=job.id, actual=job.status, expected=JobStatus.OPEN):
                self.send(w.escrow.cancelJob, job.terms.as_abi(), sender=w.agent)
            return
        job = choose(self.jobs_in(JobStatus.OPEN), pick)
        if caller == "worker":
            with reverts(w.escrow.Unauthorized, jobId=job.id, caller=w.worker):
                self.send(w.escrow.cancelJob, job.terms.as_abi(), sender=w.worker)
            return
        self.send(w.escrow.cancelJob, job.terms.as_abi(), sender=w.agent)
        job.status = JobStatus.REFUNDED

    # The worker

    def work(self, job: JobModel, submits: bool) -> None:
        """Accepts an open job (and submits at once, or later), or submits an accepted one."""
        w = self.world
        if job.status == JobStatus.OPEN:
            if self.now > job.terms.accept_by:
                with reverts(w.escrow.DeadlinePassed, jobId=job.id, deadline=job.terms.accept_by):
                    self.send(w.escrow.acceptJob, job.terms.as_abi(), sender=w.worker)
                return
            self.send(w.escrow.acceptJob, job.terms.as_abi(), sender=w.worker)
            job.status = JobStatus.ACCEPTED
            if not submits:
                return
        evidence = keccak(b"evidence" + job.id)
        if self.now > job.terms.resolve_by:
            with reverts(w.escrow.DeadlinePassed, jobId=job.id, deadline=job.terms.resolve_by):
                self.send(w.escrow.submitEvidence, job.id, evidence, "ipfs://evidence", sender=w.worker)
            return
        self.send(w.escrow.submitEvidence, job.id, evidence, "ipfs://evidence", sender=w.worker)
        job.evidence = evidence
        job.status = JobStatus.SUBMITTED

    @precondition(lambda self: self.jobs_in(JobStatus.OPEN, JobStatus.ACCEPTED))
    @rule(task=st.tuples(picks, st.sampled_from([True, True, False])))  # (job, submits at once)
    def worker_works(self, task):
        pick, submits = task
        self.work(choose(self.jobs_in(JobStatus.OPEN, JobStatus.ACCEPTED), pick), submits)

    # The oracle operators

    @precondition(lambda self: self.jobs_in(JobStatus.SUBMITTED))
    @rule(
        ballot=st.tuples(picks, st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=3))
    )
    def operators_attest(self, ballot):
        pick, votes = ballot
        self.attest(choose(self.jobs_in(JobStatus.SUBMITTED), pick), votes)

    def attest(self, job: JobModel, votes: list[tuple[int, bool]]) -> None:
        """Operators attest one after the other; the first side to reach the quorum is final."""
        w = self.world
        for index, approve in votes:
            operator = w.operators[index]
            record = self.ops[self.who(operator)]
            args = (job.id, job.evidence, approve, 0 if approve else 2, job.terms.as_abi())
            if not record.active or record.stake < PARAMS.min_stake:
                with reverts(w.oracle.NotActiveOperator, account=operator):
                    self.send(w.oracle.attest, *args, sender=operator)
            elif job.status != JobStatus.SUBMITTED:
                with reverts(w.oracle.NotAwaitingVerification, jobId=job.id, status=job.status):
                    self.send(w.oracle.attest, *args, sender=operator)
            elif self.now > job.deadline:
                with reverts(w.oracle.VerificationClosed, jobId=job.id, verifyBy=job.deadline):
                    self.send(w.oracle.attest, *args, sender=operator)
            elif self.who(operator) in job.attested:
                with reverts(w.oracle.AlreadyAttested, jobId=job.id, operator=operator):
                    self.send(w.oracle.attest, *args, sender=operator)
            else:
                tx = self.send(w.oracle.attest, *args, sender=operator)
                job.attested[self.who(operator)] = approve
                side = sum(1 for v in job.attested.values() if v == approve)
                verdicts = tx.events.filter(w.oracle.VerdictReached)
                if side < PARAMS.quorum:
                    assert verdicts == [], "a verdict below the quorum"
                    continue
                assert [v.approved for v in verdicts] == [approve]
                job.verdict_by = {a for a, v in job.attested.items() if v == approve}
                job.attested.clear()
                if job.terms.challenge_window:
                    job.status = JobStatus.APPROVED if approve else JobStatus.REJECTED
                else:
                    job.status = JobStatus.PAID if approve else JobStatus.REFUNDED
                event(f"verdict: {JobStatus(job.status).name}")

    # Disputes

    def disputable(self) -> list[JobModel]:
        parties = (self.who(self.world.agent), self.who(self.world.worker))
        return [j for j in self.jobs if any(j.may_dispute(p, parties[1], self.now) for p in parties)]

    @precondition(lambda self: self.jobs_in(*DISPUTE_STAGES))
    @rule(plan=st.tuples(picks, st.sampled_from([True, True, False]), dispute_styles))
    def someone_disputes(self, plan):
        """Mostly the party whose turn it is (`dispute`); otherwise someone out of turn: the wrong
        party, before or after the window, or a second time, who is refused."""
        pick, in_turn, (by_worker, from_reward, refused_first) = plan
        if in_turn and self.disputable():
            self.dispute(choose(self.disputable(), pick), by_worker, from_reward, refused_first)
            return
        w = self.world
        job, person = choose(self.refusals(from_reward), pick)
        with reverts(w.escrow.NotDisputable, jobId=job.id, status=job.status, caller=person):
            self.send(w.escrow.dispute, job.terms.as_abi(), from_reward, sender=person)

    def dispute(self, job: JobModel, by_worker: bool, from_reward: bool, refused_first: str | None) -> None:
        """The agent against an approval, the worker against a rejection, either after the oracle
        missed its deadline; a worker may bond with the reward."""
        w = self.world
        if job.status == JobStatus.APPROVED:
            disputer, interloper = w.agent, w.worker
        elif job.status == JobStatus.REJECTED:
            disputer, interloper = w.worker, w.agent
        else:
            disputer, interloper = (w.worker, w.anyone) if by_worker else (w.agent, w.anyone)
        from_reward = from_reward and disputer is w.worker
        if refused_first == "interloper":
            with reverts(w.escrow.NotDisputable, jobId=job.id, status=job.status, caller=interloper):
                self.send(w.escrow.dispute, job.terms.as_abi(), False, sender=interloper)
        bond = bond_of(job.terms.reward)
        args = (job.terms.as_abi(), from_reward)
        if from_reward and FEE + bond > job.terms.reward // 2:
            needed = FEE + bond
            with reverts(w.escrow.BondExceedsReward, jobId=job.id, needed=needed, reward=job.terms.reward):
                self.send(w.escrow.dispute, *args, sender=disputer)
            return
        if not from_reward and self.who(disputer) in self.blacklisted:
            with reverts(w.token.Blacklisted, account=disputer):
                self.send(w.escrow.dispute, *args, sender=disputer)
            return
        tx = self.send(w.escrow.dispute, *args, sender=disputer)
        (disputed,) = tx.events.filter(w.escrow.JobDisputed)
        assert disputed == w.escrow.JobDisputed(job.id, disputer, disputed.disputeId, FEE, bond, from_reward)
        (requested,) = tx.events.filter(w.pool.RandomnessRequested)
        dispute = DisputeModel(disputed.disputeId, job, request=requested.requestId)
        dispute.phases[0] = self.phases
        self.opened_round(dispute)
        job.disputed_from, job.status, job.dispute = job.status, JobStatus.DISPUTED, dispute
        self.disputes.append(dispute)
        event(f"dispute of {JobStatus(job.disputed_from).name}, fromReward={from_reward}")
        if refused_first == "eager draw" and (blocker := self.blocker(dispute)) is not None:
            first = {"firstDisputeId": blocker.id, "firstRound": blocker.round}
            with reverts(w.pool.DrawOutOfOrder, disputeId=dispute.id, **first):
                self.send(w.pool.draw, dispute.id, sender=w.anyone)
        elif refused_first == "eager draw":  # the randomness is the hash of a block not mined yet
            with reverts(w.pool.RandomnessNotReady, disputeId=dispute.id, requestId=dispute.request):
                self.send(w.pool.draw, dispute.id, sender=w.anyone)

    def refusals(self, from_reward: bool) -> list[tuple[JobModel, Any]]:
        w = self.world
        worker = self.who(w.worker)
        return [
            (job, person)
            for job in self.jobs_in(*DISPUTE_STAGES)
            for person in (w.agent, w.worker, w.anyone)
            if not job.may_dispute(self.who(person), worker, self.now)
            or (from_reward and person is not w.worker)
        ]

    # The arbitration pool: anyone draws, tallies and executes; the panel commits and reveals

    def draw(self, dispute: DisputeModel) -> None:
        """Lets the randomness arrive and draws; predicts the expired and the too-few cases."""
        w = self.world
        self.mine_blocks(2)
        draw_block = self.chain.blocks.head.number + 1
        needed = dispute.current.panelSize
        eligible = self.eligible()
        if self.now > dispute.current.drawBy:
            with reverts(w.pool.DrawTooLate, disputeId=dispute.id, drawBy=dispute.current.drawBy):
                self.send(w.pool.draw, dispute.id, sender=w.anyone)
            event("draw too late")
            return
        if (blocker := self.blocker(dispute)) is not None:
            first = {"firstDisputeId": blocker.id, "firstRound": blocker.round}
            with reverts(w.pool.DrawOutOfOrder, disputeId=dispute.id, **first):
                self.send(w.pool.draw, dispute.id, sender=w.anyone)
            event("draw waits for an earlier round")
            return
        if not dispute.seeded and dispute.request < draw_block - BLOCKHASH_WINDOW:
            self.expire(self.send(w.pool.draw, dispute.id, sender=w.anyone), dispute, draw_block)
            return
        if len(eligible) < needed:
            with reverts(
                w.pool.NotEnoughArbitrators, disputeId=dispute.id, drawn=len(eligible), needed=needed
            ):
                self.send(w.pool.draw, dispute.id, sender=w.anyone)
            event("too few arbitrators")
            return
        self.send(w.pool.draw, dispute.id, sender=w.anyone)
        drawn = w.pool.roundOf(dispute.id, dispute.round)
        commit, reveal, _ = dispute.phases[dispute.round]  # as the round opened, whatever came since
        ends = (self.now + commit * 60, self.now + (commit + reveal) * 60)
        assert (drawn.commitEnd, drawn.revealEnd) == ends, f"round phases {drawn} against {ends}"
        panel = [str(a) for a in drawn.panel]
        assert len(panel) == needed == len(set(panel)), f"panel {panel} of {needed} seats"
        assert set(panel) <= eligible, f"drawn without free stake: {set(panel) - eligible}"
        event(f"drawn round {dispute.round}")
        REACHED["draw"] += 1

    def expire(self, tx: Any, dispute: DisputeModel, block: int) -> None:
        """The hash is gone and nobody recorded the seed: announced, and asked again."""
        w = self.world
        assert tx.events.filter(w.pool.RandomnessExpired) == [
            w.pool.RandomnessExpired(dispute.id, dispute.round, dispute.request)
        ]
        (requested,) = tx.events.filter(w.pool.RandomnessRequested)
        assert requested.requestId == block + 1
        dispute.request = requested.requestId
        event("randomness expired")
        REACHED["randomness expired"] += 1

    @precondition(lambda self: self.in_phase(Phase.DRAWING))
    @rule(plan=st.tuples(picks, st.sampled_from(["record", "wait out", "record, wait out"])))
    def keeper_records_or_randomness_expires(self, plan):
        """A keeper records a round's seed, or nobody touches it for the blockhash window."""
        w = self.world
        pick, how = plan
        dispute = choose(self.in_phase(Phase.DRAWING), pick)
        if how.startswith("record"):
            block = self.chain.blocks.head.number + 1
            if dispute.seeded:
                with reverts(w.pool.SeedAlreadyRecorded, disputeId=dispute.id, round=dispute.round):
                    self.send(w.pool.recordSeed, dispute.id, sender=w.anyone)
            elif dispute.request < block - BLOCKHASH_WINDOW:
                self.expire(self.send(w.pool.recordSeed, dispute.id, sender=w.anyone), dispute, block)
            elif block <= dispute.request:
                with reverts(w.pool.RandomnessNotReady, disputeId=dispute.id, requestId=dispute.request):
                    self.send(w.pool.recordSeed, dispute.id, sender=w.anyone)
            else:
                tx = self.send(w.pool.recordSeed, dispute.id, sender=w.anyone)
                assert tx.events == [w.pool.SeedRecorded(dispute.id, dispute.round, dispute.request)]
                dispute.seeded = True
                event("seed recorded")
        if how.endswith("wait out"):
            self.mine_blocks(BLOCKHASH_WINDOW + 1)

    @precondition(lambda self: self.in_phase(Phase.DRAWING))
    @rule(pick=picks)
    def anyone_draws(self, pick):
        self.draw(choose(self.in_phase(Phase.DRAWING), pick))

    def commit(self, dispute: DisputeModel, choices: list[int | None]) -> None:
        w = self.world
        for seat, address in enumerate(dispute.uncommitted()):
            choice = choices[seat % len(choices)]
            if choice is None:
                continue
            salt = keccak(b"salt %d %d " % (dispute.id, dispute.round) + bytes.fromhex(address[2:]))
            hidden = commitment(dispute.id, dispute.round, address, choice, salt)
            self.send(w.pool.commit, dispute.id, hidden, sender=w.arbitrators[address])
            dispute.votes[(dispute.round, address)] = Vote(choice, salt)

    def reveal(self, dispute: DisputeModel, reveals: list[bool]) -> None:
        w = self.world
        for seat, address in enumerate(dispute.unrevealed()):
            if not reveals[seat % len(reveals)]:
                continue
            vote = dispute.votes[(dispute.round, address)]
            self.send(w.pool.reveal, dispute.id, vote.choice, vote.salt, sender=w.arbitrators[address])
            vote.revealed = True

    def voting(self) -> list[DisputeModel]:
        return [
            d
            for d in self.disputes
            if (d.phase == Phase.COMMIT and d.uncommitted()) or (d.phase == Phase.REVEAL and d.unrevealed())
        ]

    @precondition(lambda self: self.voting())
    @rule(ballot=st.tuples(picks, ballots))
    def panel_votes(self, ballot):
        """Drawn arbitrators commit hidden votes in the commit phase and reveal them in the reveal
        phase, not all of them and some never; an outsider's commitment and a reveal of another
        choice than the committed one are refused."""
        w = self.world
        pick, (choices, reveals, mistake) = ballot
        dispute = choose(self.voting(), pick)
        if dispute.phase == Phase.COMMIT:
            if mistake:
                hidden = commitment(dispute.id, dispute.round, self.who(w.anyone), 1, b"\x01" * 32)
                with reverts(w.pool.NotOnPanel, disputeId=dispute.id, account=w.anyone):
                    self.send(w.pool.commit, dispute.id, hidden, sender=w.anyone)
            self.commit(dispute, choices)
            return
        if mistake:
            address = dispute.unrevealed()[0]
            vote = dispute.votes[(dispute.round, address)]
            with reverts(w.pool.CommitmentMismatch, disputeId=dispute.id, arbitrator=address):
                self.send(
                    w.pool.reveal, dispute.id, (vote.choice + 1) % 3, vote.salt, sender=w.arbitrators[address]
                )
        self.reveal(dispute, reveals)

    def tally(self, dispute: DisputeModel) -> None:
        w = self.world
        if dispute.phase != Phase.TALLY:
            with reverts(w.pool.WrongPhase, disputeId=dispute.id, actual=dispute.phase, expected=Phase.TALLY):
                self.send(w.pool.tally, dispute.id, sender=w.anyone)
            return
        tx = self.send(w.pool.tally, dispute.id, sender=w.anyone)
        ruling, tied = dispute.plurality()
        last = dispute.round + 1 >= MAX_ROUNDS
        appeal_end = self.now + (0 if last else dispute.phases[dispute.round][2] * 60)
        assert tx.events.filter(w.pool.Tallied) == [
            w.pool.Tallied(dispute.id, dispute.round, ruling, tied, appeal_end)
        ]
        REACHED["tally"] += 1

    @precondition(lambda self: self.in_phase(Phase.TALLY))
    @rule(plan=st.tuples(picks, st.booleans()))  # (dispute, premature)
    def anyone_tallies(self, plan):
        pick, premature = plan
        """Tallies a round after its reveal phase; before that (premature) the pool refuses."""
        early = [d for d in self.live() if d.phase != Phase.TALLY]
        self.tally(choose(early if premature and early else self.in_phase(Phase.TALLY), pick))

    @precondition(lambda self: self.in_phase(Phase.APPEALABLE))
    @rule(plan=st.tuples(picks, st.sampled_from(["agent", "worker", "anyone"])))
    def losing_side_appeals(self, plan):
        """The side the ruling is against (either, after a split) pays for a larger panel."""
        w = self.world
        pick, who = plan
        dispute = choose(self.in_phase(Phase.APPEALABLE), pick)
        job = dispute.job
        caller = {"agent": w.agent, "worker": w.worker, "anyone": w.anyone}[who]
        args = (job.terms.as_abi(),)
        if job.status != JobStatus.DISPUTED:  # settled as a split after the dispute timeout
            with reverts(
                w.escrow.JobNotInStatus, jobId=job.id, actual=job.status, expected=JobStatus.DISPUTED
            ):
                self.send(w.escrow.appeal, *args, sender=caller)
            return
        ruling = w.pool.currentRuling(dispute.id)[0]
        losing = {Ruling.PAY_WORKER: ("agent",), Ruling.REFUND_AGENT: ("worker",)}.get(
            ruling, ("agent", "worker")
        )
        if who not in losing:
            with reverts(w.escrow.NotLosingSide, jobId=job.id, caller=caller, ruling=ruling):
                self.send(w.escrow.appeal, *args, sender=caller)
            return
        if self.who(caller) in self.blacklisted:
            with reverts(w.token.Blacklisted, account=caller):
                self.send(w.escrow.appeal, *args, sender=caller)
            return
        if dispute.round + 1 >= MAX_ROUNDS:
            with reverts(w.pool.NoMoreAppeals, disputeId=dispute.id, maxRounds=MAX_ROUNDS):
                self.send(w.escrow.appeal, *args, sender=caller)
            return
        if self.now > dispute.current.appealEnd:
            with reverts(
                w.pool.WrongPhase, disputeId=dispute.id, actual=Phase.FINAL, expected=Phase.APPEALABLE
            ):
                self.send(w.escrow.appeal, *args, sender=caller)
            return
        cost = PARAMS.fee_per_arbitrator * (2 * dispute.current.panelSize + 1)
        tx = self.send(w.escrow.appeal, *args, sender=caller)
        assert tx.events.filter(w.escrow.JobAppealed) == [w.escrow.JobAppealed(job.id, caller, cost)]
        (requested,) = tx.events.filter(w.pool.RandomnessRequested)
        dispute.round += 1
        dispute.request = requested.requestId
        dispute.phases[dispute.round] = self.phases
        self.opened_round(dispute)
        event(f"appeal to round {dispute.round}")
        REACHED["appeal"] += 1

    @rule(phases=st.tuples(*[st.sampled_from([0, 9, 10, 30, 90, 2880, 2881])] * 3))
    def governance_sets_phases(self, phases):
        """Governance changes the phase lengths: only within the bounds, and only for rounds
        opened afterwards; one nobody could vote in (0 minutes) is refused."""
        w = self.world
        params = (PARAMS.fee_per_arbitrator, *phases)
        bad = [m for m in phases if not MIN_PHASE_MINUTES <= m <= MAX_PHASE_MINUTES]
        if bad:
            with reverts(
                w.pool.PhaseLengthOutOfBounds, minutes_=bad[0], min=MIN_PHASE_MINUTES, max=MAX_PHASE_MINUTES
            ):
                self.send(w.pool.setParameters, params, sender=w.governance)
            return
        self.send(w.pool.setParameters, params, sender=w.governance)
        self.phases = phases
        event("phases changed")

    def executable(self, dispute: DisputeModel) -> bool:
        if dispute.phase == Phase.DRAWING:
            return self.now > dispute.current.drawBy
        if dispute.phase == Phase.APPEALABLE:
            return self.now > dispute.current.appealEnd or dispute.round + 1 >= MAX_ROUNDS
        return False

    def execute(self, dispute: DisputeModel) -> None:
        """Makes the ruling final (or lets an undrawable round lapse) and delivers it."""
        w = self.world
        phase = dispute.phase
        if self.executable(dispute):
            # A lapsed first round rules 0; a lapsed appeal falls back to the ruling it appealed.
            lapsed_first = phase == Phase.DRAWING and dispute.round == 0
            ruling = 0 if lapsed_first else w.pool.currentRuling(dispute.id)[0]
            if phase == Phase.DRAWING:
                event(f"round {dispute.round} lapses")
        else:
            expected = Phase.FINAL if phase == Phase.APPEALABLE else Phase.APPEALABLE
            with reverts(w.pool.WrongPhase, disputeId=dispute.id, actual=phase, expected=expected):
                self.send(w.pool.executeRuling, dispute.id, sender=w.anyone)
            return
        lapsing = phase == Phase.DRAWING
        dispute.lapsed_appeal = lapsing and dispute.round > 0
        # Paid at once unless another round still waits for its draw (this one no longer does).
        waiting = [d for d in self.in_phase(Phase.DRAWING) if d is not dispute]
        deferred = bool(waiting) and self.now <= self.last_draw_by
        tx = self.send(w.pool.executeRuling, dispute.id, sender=w.anyone)
        dispute.phase = Phase.FINAL
        assert tx.events.filter(w.pool.RulingDelivered) == [w.pool.RulingDelivered(dispute.id)]
        record = DisputeRecord(*w.escrow.disputeOf(dispute.job.id))
        assert (record.ruled, record.ruling) == (True, ruling), f"the escrow recorded {record}"
        event(f"ruling {Ruling(ruling).name}")
        if deferred:
            assert tx.events.filter(w.pool.PaymentDeferred) == [w.pool.PaymentDeferred(dispute.id)]
            assert tx.events.filter(w.pool.Rewarded) == tx.events.filter(w.pool.Penalized) == []
            event("payment deferred while a draw is pending")
            return
        self.check_payout(tx, dispute, rounds_as_paid(dispute.rounds, dispute.lapsed_appeal))

    def check_payout(self, tx: Any, dispute: DisputeModel, rounds: list[tuple[int, list[str]]]) -> None:
        """Who is rewarded, penalized and what funds the reserve, by the spec, and the arbitrators'
        rewards and stakes after it."""
        w = self.world
        ruling, tied, _ = w.pool.currentRuling(dispute.id)
        expected = expected_payout(dispute, rounds, ruling, tied)
        assert [(e.arbitrator, e.reward) for e in tx.events.filter(w.pool.Rewarded)] == expected.rewarded
        assert [e.arbitrator for e in tx.events.filter(w.pool.Penalized)] == expected.penalized
        funded = [e.amount for e in tx.events.filter(w.pool.RewardsFunded) if e.funder == w.pool.address]
        assert funded == expected.reserve, f"reserve funded {funded}, expected {expected.reserve}"
        rewards, penalties = expected.by_arbitrator()
        for address in set(rewards) | set(penalties):
            before, after = self.arbs[address], w.pool.arbitratorOf(address)
            assert after.rewards == before.rewards + rewards[address], f"{address} rewards"
            assert after.staked == before.staked - penalties[address], f"{address} stake"
        dispute.paid = True
        REACHED["panels paid as modelled"] += 1
        if expected.reserve:
            event("a round nobody earned funds the reserve")

    def unpaid(self) -> list[DisputeModel]:
        return [d for d in self.disputes if d.phase == Phase.FINAL and not d.paid]

    @precondition(lambda self: self.unpaid())
    @rule(pick=picks)
    def anyone_pays_panels(self, pick):
        """Pays the panels of a ruling executed while a draw was pending, once none is."""
        w = self.world
        dispute = choose(self.unpaid(), pick)
        if self.frozen():
            with reverts(w.pool.DrawsPending, pending=len(self.in_phase(Phase.DRAWING))):
                self.send(w.pool.payPanels, dispute.id, sender=w.anyone)
            return
        tx = self.send(w.pool.payPanels, dispute.id, sender=w.anyone)
        views = dispute.rounds[:-1] if dispute.lapsed_appeal else dispute.rounds
        self.check_payout(tx, dispute, rounds_as_paid(views, False))
        event("deferred payment made")

    def with_queue(self) -> list[str]:
        return [a for a, q in self.queued.items() if any(q)]

    @precondition(lambda self: self.with_queue())
    @rule()
    def anyone_applies_queued_stakes(self):
        """Applies the stake changes queued during draws, once no draw is pending."""
        w = self.world
        if self.frozen():
            with reverts(w.pool.DrawsPending, pending=len(self.in_phase(Phase.DRAWING))):
                self.send(w.pool.applyQueuedStakes, self.with_queue(), sender=w.anyone)
            return
        self.send(w.pool.applyQueuedStakes, self.with_queue(), sender=w.anyone)
        event("queued stakes applied")

    @precondition(lambda self: any(self.executable(d) for d in self.disputes))
    @rule(plan=st.tuples(picks, st.booleans()))  # (dispute, premature)
    def anyone_executes(self, plan):
        """Executes a ruling nobody can appeal any more; before that, or twice, the pool refuses."""
        pick, premature = plan
        ready = [d for d in self.disputes if self.executable(d)]
        early = [d for d in self.disputes if not self.executable(d)]
        self.execute(choose(early if premature and early else ready, pick))

    # Settlement and withdrawals

    def settle(self, job: JobModel) -> None:
        w = self.world
        not_before = job.settles_not_before(self.now)
        if not_before is not None:
            with reverts(w.escrow.NothingToSettle, jobId=job.id, status=job.status, notBefore=not_before):
                self.send(w.escrow.settle, job.terms.as_abi(), sender=w.anyone)
            return
        self.send(w.escrow.settle, job.terms.as_abi(), sender=w.anyone)
        if job.status == JobStatus.DISPUTED:
            # Without a ruling (dispute timeout) it is a split, and a split pays the worker half.
            ruling = job.record.ruling if job.record.ruled else Ruling.SPLIT
            job.status = JobStatus.REFUNDED if ruling == Ruling.REFUND_AGENT else JobStatus.PAID
            event(f"dispute settled {'by ruling' if job.record.ruled else 'at timeout'}")
        else:
            job.status = JobStatus.PAID if job.status == JobStatus.APPROVED else JobStatus.REFUNDED

    def settleable(self) -> list[JobModel]:
        return [j for j in self.jobs if j.status not in SETTLED and j.settles_not_before(self.now) is None]

    @precondition(lambda self: self.settleable())
    @rule(plan=st.tuples(picks, st.booleans()))  # (job, premature)
    def anyone_settles(self, plan):
        """Settles a job as far as time allows; before that, or once settled, nothing to settle."""
        pick, premature = plan
        early = [j for j in self.jobs if j not in self.settleable()]
        self.settle(choose(early if premature and early else self.settleable(), pick))

    def payable(self) -> list[Any]:
        w = self.world
        owed = [c for c in w.creditors if self.credits[self.who(c)]]
        earned = [("fees", o) for o in w.operators if self.operator_fees.get(self.who(o))]
        return owed + earned + ([None] if self.fees else [])  # None: the treasury's protocol fees

    @precondition(lambda self: self.payable())
    @rule(pick=picks, elsewhere=st.booleans(), empty_first=st.booleans())
    def creditor_withdraws(self, pick, elsewhere, empty_first):
        """A creditor withdraws its credit (to another address when it cannot receive), an operator
        its oracle fees, or anyone sends the protocol fees to the treasury; nothing to withdraw is
        refused."""
        w = self.world
        if empty_first and (empty := [c for c in w.creditors if not self.credits[self.who(c)]]):
            creditor = choose(empty, pick)
            with reverts(w.escrow.NothingToWithdraw, account=creditor):
                self.send(w.escrow.withdraw, creditor, sender=creditor)
        creditor = choose(self.payable(), pick)
        if creditor is None:
            before = w.token.balanceOf(w.treasury)
            self.send(w.escrow.collectProtocolFees, sender=w.anyone)
            assert w.token.balanceOf(w.treasury) == before + self.fees
            return
        if isinstance(creditor, tuple):
            operator = creditor[1]
            to = w.anyone if elsewhere else operator
            before = w.token.balanceOf(to)
            self.send(w.escrow.withdrawOperatorFees, to, sender=operator)
            assert w.token.balanceOf(to) == before + self.operator_fees[self.who(operator)]
            with reverts(w.escrow.NothingToWithdraw, account=operator):
                self.send(w.escrow.withdrawOperatorFees, to, sender=operator)
            return
        to = w.anyone if elsewhere or self.who(creditor) in self.blacklisted else creditor
        before = w.token.balanceOf(to)
        self.send(w.escrow.withdraw, to, sender=creditor)
        assert w.token.balanceOf(to) == before + self.credits[self.who(creditor)]

    @precondition(lambda self: self.jobs)
    @precondition(lambda self: self.blacklisted or self.jobs_in(*DISPUTE_STAGES))
    @rule(who=st.sampled_from(["worker", "agent"]), listed=st.booleans())
    def token_blacklists(self, who, listed):
        """The token refuses a party's transfers (a blacklisted USDC holder), or stops refusing:
        payouts to it are credited instead, and what it must pay in is refused."""
        w = self.world
        account = w.agent if who == "agent" else w.worker
        self.send(w.token.setBlacklisted, account, listed, sender=w.anyone)
        (self.blacklisted.add if listed else self.blacklisted.discard)(self.who(account))

    # Stakers

    @rule(pick=picks, act=st.sampled_from(["stake", "unstake", "withdraw"]), size=stake_sizes)
    def staker_manages_stake(self, pick, act, size):
        """An arbitrator (or an oracle operator) stakes, starts unstaking, or withdraws."""
        w = self.world
        stakers = [*w.arbitrators, *map(self.who, w.operators)]
        address = choose(stakers, pick)
        if address not in w.arbitrators:
            self.operator_manages_stake(w.operators[stakers.index(address) - len(w.arbitrators)], act, size)
            return
        arbitrator = w.arbitrators[address]
        a = self.arbs[address]
        frozen = self.frozen()
        stake_in = self.queued[address][0]
        current, unstaking, unlock_at = self.after_apply(address)
        if act == "stake":
            held = current + (stake_in if frozen else 0)
            amount = {"all": MAX_STAKE - held, "to_min": max(MIN_STAKE - held, 0)}.get(size, size)
            staked = held + amount
            if not MIN_STAKE <= staked <= MAX_STAKE:
                with reverts(
                    w.pool.StakeOutOfBounds, arbitrator=address, stake=staked, min=MIN_STAKE, max=MAX_STAKE
                ):
                    self.send(w.pool.stake, amount, sender=arbitrator)
                return
            tx = self.send(w.pool.stake, amount, sender=arbitrator)
            if frozen:
                assert tx.events.filter(w.pool.StakeQueued) == [w.pool.StakeQueued(address, amount, staked)]
                assert tx.events.filter(w.pool.StakeChanged) == []
                REACHED["stake queued"] += 1
        elif act == "unstake":
            amount = {"all": current, "to_min": max(current - MIN_STAKE, 0)}.get(size, size)
            left = current - amount
            if a.locked:
                with reverts(w.pool.StakeLockedInDispute, arbitrator=address, locked=a.locked):
                    self.send(w.pool.requestUnstake, amount, sender=arbitrator)
            elif unstaking:  # an amount still unstaking keeps its own delay; a queued one waits
                with reverts(
                    w.pool.UnstakePending,
                    account=address,
                    pending=unstaking,
                    unlockAt=unlock_at if a.unstaking or not frozen else 0,
                ):
                    self.send(w.pool.requestUnstake, amount, sender=arbitrator)
            elif amount == 0 or amount > current:
                with reverts(w.pool.StakeOutOfBounds, arbitrator=address, stake=amount, min=1, max=current):
                    self.send(w.pool.requestUnstake, amount, sender=arbitrator)
            elif 0 < left < MIN_STAKE:
                with reverts(
                    w.pool.StakeOutOfBounds, arbitrator=address, stake=left, min=MIN_STAKE, max=MAX_STAKE
                ):
                    self.send(w.pool.requestUnstake, amount, sender=arbitrator)
            else:
                tx = self.send(w.pool.requestUnstake, amount, sender=arbitrator)
                if frozen:
                    assert tx.events == [w.pool.UnstakeQueued(address, amount)]
                    event("unstake queued")
        else:
            self.pool_withdraw(arbitrator)

    def pool_withdraw(self, account: Any) -> None:
        w = self.world
        a = self.arbs[self.who(account)]
        queued_out = self.frozen() and self.queued[self.who(account)][1]
        _, unstaking, unlock_at = self.after_apply(self.who(account))
        amount = a.rewards + (unstaking if self.now >= unlock_at and not queued_out else 0)
        if amount == 0:
            with reverts(w.pool.NothingToWithdraw, account=account, unlockAt=0 if queued_out else unlock_at):
                self.send(w.pool.withdraw, sender=account)
            return
        before = w.token.balanceOf(account)
        self.send(w.pool.withdraw, sender=account)
        assert w.token.balanceOf(account) == before + amount

    def operator_manages_stake(self, operator: Any, act: str, size: Any) -> None:
        w = self.world
        op = self.ops[self.who(operator)]
        if act == "stake":
            amount = {"all": PARAMS.min_stake, "to_min": max(PARAMS.min_stake - op.stake, 0)}.get(size, size)
            self.send(w.oracle.stake, amount, sender=operator)
        elif act == "unstake":
            amount = {"all": op.stake, "to_min": max(op.stake - PARAMS.min_stake, 0)}.get(size, size)
            if amount == 0 or amount > op.stake:
                with reverts(
                    w.oracle.StakeLocked, operator=operator, requested=amount, available=op.stake, unstakeAt=0
                ):
                    self.send(w.oracle.requestUnstake, amount, sender=operator)
                return
            if op.unstaking:  # an amount still unstaking keeps its own delay
                with reverts(
                    w.oracle.UnstakePending, operator=operator, pending=op.unstaking, unstakeAt=op.unstakeAt
                ):
                    self.send(w.oracle.requestUnstake, amount, sender=operator)
                return
            self.send(w.oracle.requestUnstake, amount, sender=operator)
        else:
            self.oracle_withdraw(operator)

    def oracle_withdraw(self, operator: Any) -> None:
        w = self.world
        op = self.ops[self.who(operator)]
        if op.unstaking == 0 or self.now < op.unstakeAt:
            with reverts(
                w.oracle.StakeLocked,
                operator=operator,
                requested=op.unstaking,
                available=0,
                unstakeAt=op.unstakeAt,
            ):
                self.send(w.oracle.withdrawStake, sender=operator)
            return
        # A disputed verdict it attested holds its stake until the dispute settles.
        held = sum(
            1
            for j in self.jobs_in(JobStatus.DISPUTED)
            if j.disputed_from != JobStatus.SUBMITTED and self.who(operator) in j.verdict_by
        )
        if held:
            with reverts(w.oracle.StakeHeldByDisputes, operator=operator, disputedVerdicts=held):
                self.send(w.oracle.withdrawStake, sender=operator)
            return
        before = w.token.balanceOf(operator)
        self.send(w.oracle.withdrawStake, sender=operator)
        assert w.token.balanceOf(operator) == before + op.unstaking

    # The clock

    def deadlines(self) -> list[int]:
        """Every moment something changes: job deadlines, ends of phases, unlocks."""
        times = set()
        for job in self.jobs:
            if job.status not in SETTLED:
                times.add(job.deadline)
            if job.status == JobStatus.SUBMITTED:
                times.add(job.deadline + job.terms.challenge_window)
        for dispute in self.live():
            view = dispute.current
            times |= {view.drawBy, view.commitEnd, view.revealEnd, view.appealEnd}
        times |= {a.unlockAt for a in self.arbs.values() if a.unstaking}
        times |= {o.unstakeAt for o in self.ops.values() if o.unstaking}
        return sorted(t for t in times if t >= self.now)

    @rule(step=st.tuples(picks, clock_steps))
    def clock_advances(self, step):
        """Moves to the next deadline's last second (every deadline is inclusive) or the first one
        after it, the same for any deadline ahead, or by a fixed step: within a phase, past phases
        and windows, past the draw timeout, unstaking delays and the dispute timeout."""
        pick, step = step
        if isinstance(step, int):
            self.advance(self.now + step)
            return
        after = int(step.startswith("after"))
        ahead = [t + after for t in self.deadlines() if t + after > self.now]
        if ahead:
            self.advance(ahead[0] if step.endswith("next deadline") else choose(ahead, pick))

    # The steps that move jobs and disputes forward are only enabled when due; listing them twice
    # makes them as likely as the stakers' and the token's, which are always enabled.
    worker_works_again = worker_works
    operators_attest_again = operators_attest
    someone_disputes_again = someone_disputes
    anyone_draws_again = anyone_draws
    panel_votes_again = panel_votes
    anyone_tallies_again = anyone_tallies
    anyone_executes_again = anyone_executes
    anyone_settles_again = anyone_settles

    # What must always hold

    @invariant(check_during_init=True)
    def books_balance(self):
        w = self.world
        v = w.views
        ask = Batch(w.web3)
        for job in self.jobs:
            job.reads = (
                ask(v["escrow"].functions.jobState(job.id)),
                ask(v["escrow"].functions.disputeOf(job.id)),
            )
        for dispute in self.disputes:
            dispute.reads = (
                ask(v["pool"].functions.phase(dispute.id)),
                [ask(v["pool"].functions.roundOf(dispute.id, r)) for r in range(dispute.round + 1)],
            )
        holders = [*w.arbitrators, self.who(w.governance)]
        arbitrator_reads = [ask(v["pool"].functions.arbitratorOf(a)) for a in holders]
        queued_reads = [ask(v["pool"].functions.queuedOf(a)) for a in holders]
        pending_read = ask(v["pool"].functions.pendingDraws())
        operator_reads = [ask(v["oracle"].functions.operatorOf(self.who(o))) for o in w.operators]
        credit_reads = [ask(v["escrow"].functions.creditOf(self.who(c))) for c in w.creditors]
        fee_reads = [ask(v["escrow"].functions.operatorFeesOf(self.who(o))) for o in w.operators]
        singles = [
            ask(v["escrow"].functions.protocolFeesAccrued()),
            ask(v["pool"].functions.rewardReserve()),
            ask(v["token"].functions.balanceOf(str(w.escrow.address))),
            ask(v["token"].functions.balanceOf(str(w.pool.address))),
            ask(v["token"].functions.balanceOf(str(w.oracle.address))),
            ask(v["registry"].functions.profile(self.who(w.worker))),
        ]
        got = ask.run()
        self.fees, reserve, in_escrow, in_pool, in_oracle, profile = (got[i] for i in singles)

        # The escrow: every unsettled job's funds, every credit and the accrued protocol fees.
        held = 0
        for index, job in enumerate(self.jobs):
            status, _, deadline = got[job.reads[0]]
            assert status >= job.seen, f"job {index} went back from {job.seen!r} to {status!r}"
            assert status == job.status, f"job {index} is {status!r}, expected {job.status!r}"
            job.seen = job.status = JobStatus(status)
            job.deadline = deadline
            job.record = DisputeRecord(*got[job.reads[1]])
            held += job.escrow_holds()
        self.credits = {self.who(c): got[i] for c, i in zip(w.creditors, credit_reads, strict=True)}
        self.operator_fees = {self.who(o): got[i] for o, i in zip(w.operators, fee_reads, strict=True)}
        credits = sum(self.credits.values()) + sum(self.operator_fees.values())
        assert in_escrow == held + credits + self.fees, (
            f"the escrow holds {in_escrow}, owes jobs {held} + credits {credits} + fees {self.fees}"
        )

        # The pool: stakes, stake being unstaked, rewards, fees of live disputes, the reserve.
        owed = reserve
        for dispute in self.disputes:
            phase_read, round_reads = dispute.reads
            phase = got[phase_read]
            assert dispute.phase != Phase.FINAL or phase == Phase.FINAL, f"dispute {dispute.id} left Final"
            dispute.phase = phase
            dispute.rounds = [] if dispute.paid else [got[i] for i in round_reads]
            owed += sum(r.fee for r in dispute.rounds)
        seats = Counter(a for d in self.disputes for r in d.rounds for a in r.panel)
        pending = len(self.in_phase(Phase.DRAWING)) if self.frozen() else 0
        assert got[pending_read] == pending, f"{got[pending_read]} draws pending, expected {pending}"
        for address, read, queued in zip(holders, arbitrator_reads, queued_reads, strict=True):
            a = self.arbs[address] = got[read]
            self.queued[address] = got[queued]
            owed += a.staked + a.unstaking + a.rewards + got[queued][0]
            assert a.locked <= a.staked, f"{address} has {a.locked} locked of a stake of {a.staked}"
            assert a.locked == LOCK * seats[address], (
                f"{address} locks {a.locked} for {seats[address]} live seats"
            )
        assert in_pool == owed, f"the pool holds {in_pool}, owes {owed}"
        governance = self.arbs[self.who(w.governance)]
        assert governance.rewards == 0, f"governance earned {governance.rewards} from panels"

        # The oracle: stakes and stake being unstaked.
        staked = 0
        for operator, read in zip(w.operators, operator_reads, strict=True):
            op = self.ops[self.who(operator)] = got[read]
            staked += op.stake + op.unstaking
        assert in_oracle == staked, f"the oracle holds {in_oracle}, its operators staked {staked}"

        # Capacity is held from acceptance to the verdict (or the dispute, or the refund).
        working = len(self.jobs_in(JobStatus.ACCEPTED, JobStatus.SUBMITTED))
        assert profile.activeJobs == working, (
            f"the worker has {profile.activeJobs} active jobs, {working} working"
        )

    # The end: everything resolves and everyone is paid out

    def teardown(self):
        try:
            if sys.exc_info()[0] is None:  # after a failed step, that step's error is the report
                self.wind_down()
        finally:
            self.chain.restore(self.snapshot)

    def wind_down(self):
        w = self.world
        self.queue_a_stake_once()
        for address in sorted(self.blacklisted):
            self.send(w.token.setBlacklisted, address, False, sender=w.anyone)
        self.blacklisted.clear()
        self.books_balance()
        far = self.now + DISPUTE_TIMEOUT + 2 * DAY  # past every window, timeout and unlock
        if self.late_keepers:
            self.advance(far)
            self.books_balance()
        for dispute in self.disputes:
            self.to_final(dispute)
        self.advance(max(far, self.now))
        self.books_balance()
        while self.unpaid():
            self.anyone_pays_panels(0)
            self.books_balance()
        if self.with_queue():
            self.anyone_applies_queued_stakes()
        self.books_balance()
        for job in self.jobs:
            if job.status not in SETTLED:
                self.settle(job)
                assert job.status in SETTLED, f"job {job.id.hex()} did not settle"
        self.books_balance()
        for creditor in w.creditors:
            if self.credits[self.who(creditor)]:
                self.send(w.escrow.withdraw, creditor, sender=creditor)
        for operator in w.operators:
            if self.operator_fees.get(self.who(operator)):
                self.send(w.escrow.withdrawOperatorFees, operator, sender=operator)
        if self.fees:
            self.send(w.escrow.collectProtocolFees, sender=w.anyone)
        self.books_balance()
        assert w.token.balanceOf(w.escrow) == 0, "the escrow keeps tokens nobody is owed"
        assert all(self.arbs[a].locked == 0 for a in w.arbitrators), "stake stays locked"
        for account in [*w.arbitrators.values(), w.governance]:
            a = self.arbs[self.who(account)]
            if a.rewards or a.unstaking:
                self.pool_withdraw(account)
        for operator in w.operators:
            if self.ops[self.who(operator)].unstaking:
                self.oracle_withdraw(operator)
        self.books_balance()
        stakes = sum(self.arbs[a].staked + self.arbs[a].unstaking for a in w.arbitrators)
        assert w.token.balanceOf(w.pool) == stakes + w.pool.rewardReserve()

    def queue_a_stake_once(self) -> None:
        """While a round waits for its draw, an arbitrator with room stakes 1 unit (it queues): the
        run reaches a queued stake even when the rules never happened to stake during a freeze."""
        if REACHED["stake queued"] or not self.frozen():
            return
        for index, address in enumerate(self.world.arbitrators):
            current, _, _ = self.after_apply(address)
            if MIN_STAKE <= current + self.queued.get(address, (0, 0))[0] + 1 <= MAX_STAKE:
                self.staker_manages_stake(index, "stake", 1)
                return

    def to_final(self, dispute: DisputeModel) -> None:
        """Finishes the round in progress as a diligent panel would (most vote one side, some
        never reveal), tallies and executes; a round nobody can sit lapses after the draw timeout."""
        rng = random.Random(f"{dispute.id} {self.now} {self.serial}")
        side = rng.choice([Ruling.PAY_WORKER, Ruling.REFUND_AGENT])
        appeals = int(rng.random() < 0.5 or not REACHED["appeal"])  # a run that never appealed does once
        w = self.world
        # a bound against a model that stops moving, not a budget: each earlier round waiting for its
        # draw, each expired hash and each appeal takes steps of its own
        for _ in range(64):
            if dispute.phase == Phase.FINAL:
                return
            self.queue_a_stake_once()
            view = dispute.current
            blocker = self.blocker(dispute) if dispute.phase == Phase.DRAWING else None
            if dispute.phase == Phase.DRAWING and self.now > view.drawBy:
                self.execute(dispute)  # lapses
            elif blocker is not None and len(self.eligible()) >= blocker.current.panelSize:
                self.draw(blocker)  # an earlier round first
            elif blocker is not None:
                self.advance(blocker.current.drawBy + 1)
            elif dispute.phase == Phase.DRAWING and len(self.eligible()) >= view.panelSize:
                late = rng.random() < 0.5 or not REACHED["randomness expired"]  # a run reaches it once
                if not dispute.seeded and late:  # keepers late: the hash expires
                    self.mine_blocks(BLOCKHASH_WINDOW + 1)
                self.draw(dispute)  # or the randomness expired and is asked again
            elif dispute.phase == Phase.DRAWING:
                self.advance(max(self.now, view.drawBy + 1))
                self.execute(dispute)
            elif dispute.phase == Phase.COMMIT:
                self.commit(
                    dispute, [side if rng.random() < 0.7 else rng.choice([0, 1, 2]) for _ in range(15)]
                )
                self.advance(view.commitEnd + 1)
            elif dispute.phase == Phase.REVEAL:
                self.reveal(dispute, [rng.random() < 0.8 for _ in range(15)])
                self.advance(view.revealEnd + 1)
            elif dispute.phase == Phase.TALLY:
                self.tally(dispute)
            elif appeals and dispute.round + 1 < MAX_ROUNDS and self.now <= view.appealEnd:
                appeals -= 1  # the losing side appeals once, at the end
                ruling = w.pool.currentRuling(dispute.id)[0]
                self.losing_side_appeals(
                    (self.in_phase(Phase.APPEALABLE).index(dispute), "agent" if ruling == 1 else "worker")
                )
            else:
                if self.now <= view.appealEnd:
                    self.advance(view.appealEnd + 1)
                self.execute(dispute)
            self.books_balance()
        raise AssertionError(f"dispute {dispute.id} is still {Phase(dispute.phase).name}")


@pytest.fixture(scope="module")
def world(project, accounts, chain, usdc):
    """A deployment of this module's own, so that no other test's arbitrators can be drawn."""
    snapshot = chain.snapshot()
    yield deploy_world(project, accounts, usdc, chain.provider.web3)
    chain.restore(snapshot)


@pytest.fixture
def quiet_traces(monkeypatch):
    """ape-foundry draws a call trace for every revert; the machine expects hundreds."""
    monkeypatch.setattr(ape_ethereum.trace.Trace, "show", lambda *_args, **_kwargs: None)


def test_people_keep_the_books_balanced(world, chain, quiet_traces):
    machine = type("People", (People,), {"world": world, "chain": chain})
    REACHED.clear()
    run_state_machine_as_test(machine, settings=settings.get_profile("arbitration-machine"))
    assert not [k for k in MUST_REACH if not REACHED[k]], f"never reached: {REACHED}"
