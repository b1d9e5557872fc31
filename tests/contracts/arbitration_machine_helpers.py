"""The world of the stateful arbitration test: a fresh deployment with its people, and what the
machine remembers about jobs and disputes between steps (only what the chain does not expose)."""

import functools
from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from devtools.system import PARAMS
from protocol_core.deployment import deploy_system
from protocol_core.enums import JobStatus
from protocol_core.terms import JobTerms, Requirements
from tests.contracts.arbitration_helpers import USDC, Phase, fund, new_accounts

DAY = 24 * 3600
FEE = 3 * PARAMS.fee_per_arbitrator  # a first panel
LOCK = PARAMS.lock_per_draw
MIN_STAKE, MAX_STAKE = PARAMS.arbitrator_min_stake, PARAMS.arbitrator_max_stake
DISPUTE_TIMEOUT = 30 * DAY  # JobEscrow.DISPUTE_TIMEOUT
DRAW_TIMEOUT = DAY  # ArbitrationPool.DRAW_TIMEOUT
MIN_PHASE_MINUTES, MAX_PHASE_MINUTES = 10, 2 * 24 * 60  # ArbitrationPool's bounds on a phase
BLOCKHASH_WINDOW = 256
# Uneven stakes: the smallest can sit 5 seats at once and drop below the minimum when penalized.
ARBITRATOR_STAKES = [s * USDC for s in (50, 50, 60, 80, 100, 120, 150, 200, 300, 500)]
LANGUAGE, EXPERTISE = 0, 0b1
UNSETTLED = (JobStatus.OPEN, JobStatus.ACCEPTED, JobStatus.SUBMITTED)

# escrow.disputeOf, whose outputs are unnamed.
DisputeRecord = namedtuple("DisputeRecord", "disputeId fee bond byWorker fromReward ruled ruling")


@dataclass
class World:
    """One deployment and everyone who acts on it."""

    token: Any
    escrow: Any
    pool: Any
    oracle: Any
    registry: Any
    governance: Any  # deployer, owner of every contract; receives rewards nobody on a panel earned
    agent: Any
    worker: Any
    treasury: Any
    anyone: Any  # a keeper with no stake in anything
    operators: list[Any]
    arbitrators: dict[str, Any]  # by address
    web3: Any = None
    views: dict[str, Any] = field(default_factory=dict)  # web3 contracts, for batched reads

    @property
    def creditors(self) -> list[Any]:
        """Everyone the escrow can credit: attesters, disputers, and refused recipients."""
        return [self.agent, self.worker, self.treasury, *self.operators]


def web3_contract(web3: Any, contract: Any) -> Any:
    """The same contract bound in web3, whose calls can go out in one JSON-RPC batch."""
    abi = [entry.model_dump(mode="json", by_alias=True) for entry in contract.contract_type.abi]
    return web3.eth.contract(address=str(contract.address), abi=abi)


@functools.cache
def _record(names: tuple[str, ...]) -> type:
    return namedtuple("View", names)


def _named(outputs: list[dict], value: Any) -> Any:
    """A struct or several named outputs as a named tuple, like ape returns them."""
    if len(outputs) == 1 and outputs[0]["type"] == "tuple":
        outputs, value = outputs[0]["components"], value
    elif len(outputs) == 1:
        return value
    names = tuple(o["name"] for o in outputs)
    return _record(names)(*value) if all(names) else tuple(value)


class Batch:
    """View calls collected and sent in one JSON-RPC batch: a check of the books reads some fifty
    values, and one round trip instead of fifty keeps the machine fast."""

    def __init__(self, web3: Any) -> None:
        self.web3, self.calls = web3, []

    def __call__(self, call: Any) -> int:
        self.calls.append(call)
        return len(self.calls) - 1

    def run(self) -> list[Any]:
        with self.web3.batch_requests() as batch:
            for call in self.calls:
                batch.add(call)
            results = batch.execute()
        return [_named(call.abi["outputs"], r) for call, r in zip(self.calls, results, strict=True)]


def deploy_world(project: Any, accounts: Any, usdc: Any, web3: Any) -> World:
    """Deploys the protocol from a fresh account, with three staked operators (quorum 2), a funded
    agent and worker, and ten arbitrators with uneven stakes."""
    governance, agent, worker, treasury, anyone = new_accounts(accounts, usdc, 5)
    operators = new_accounts(accounts, usdc, 3)
    arbitrators = new_accounts(accounts, usdc, len(ARBITRATOR_STAKES))
    system = deploy_system(project, governance, usdc, PARAMS, treasury=str(treasury.address))
    for operator in operators:
        system.oracle.addOperator(operator, sender=governance)
        fund(usdc, operator, 100_000 * USDC, system.oracle)
        system.oracle.stake(PARAMS.min_stake, sender=operator)
    fund(usdc, agent, 1_000_000 * USDC, system.escrow)
    fund(usdc, worker, 100_000 * USDC, system.escrow)
    system.registry.register(1 << LANGUAGE, EXPERTISE, 50, keccak(b"x25519"), "ipfs://worker", sender=worker)
    for arbitrator, stake in zip(arbitrators, ARBITRATOR_STAKES, strict=True):
        fund(usdc, arbitrator, 20_000 * USDC, system.arbitrator)
        system.arbitrator.stake(stake, sender=arbitrator)
    contracts = {
        "token": usdc,
        "escrow": system.escrow,
        "pool": system.arbitrator,
        "oracle": system.oracle,
        "registry": system.registry,
    }
    return World(
        web3=web3,
        views={name: web3_contract(web3, c) for name, c in contracts.items()},
        token=usdc,
        escrow=system.escrow,
        pool=system.arbitrator,
        oracle=system.oracle,
        registry=system.registry,
        governance=governance,
        agent=agent,
        worker=worker,
        treasury=treasury,
        anyone=anyone,
        operators=operators,
        arbitrators={str(a.address): a for a in arbitrators},
    )


def make_terms(agent: Any, serial: int, now: int, reward: int, window: int, accept_in: int, resolve_in: int):
    """Terms of the agent's `serial`-th job, with the fees the escrow quotes."""
    return JobTerms(
        agent=str(agent.address),
        reward=reward,
        oracle_fee=PARAMS.oracle_fee,
        protocol_fee=reward * PARAMS.protocol_fee_bps // 10_000,
        accept_by=now + accept_in,
        resolve_by=now + accept_in + resolve_in,
        challenge_window=window,
        spec_hash=keccak(b"spec %d" % serial),
        requirements=Requirements(language=LANGUAGE, expertise=EXPERTISE),
    )


def bond_of(reward: int) -> int:
    return max(PARAMS.dispute_bond_min, reward * PARAMS.dispute_bond_bps // 10_000)


@dataclass
class Vote:
    choice: int
    salt: bytes
    revealed: bool = False


@dataclass
class DisputeModel:
    """A dispute at the pool; `round` counts the appeals the machine made."""

    id: int
    job: "JobModel"
    request: int  # randomness request of the current round
    round: int = 0
    phase: int = Phase.DRAWING  # as the chain last reported it
    rounds: list[Any] = field(default_factory=list)  # RoundView of rounds 0..round, while not Final
    votes: dict[tuple[int, str], Vote] = field(default_factory=dict)  # (round, arbitrator)
    phases: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # minutes each round opened with
    seeded: bool = False  # the current round's seed is recorded (survives the randomness expiring)
    paid: bool = False  # final and its panels paid (payment waits while a draw is pending)
    lapsed_appeal: bool = False  # its last appeal round lapsed undrawn; its fee joined the round before
    reads: Any = None  # positions of its views in the current batch

    @property
    def current(self) -> Any:
        return self.rounds[self.round]

    def uncommitted(self) -> list[str]:
        return [a for a in self.current.panel if (self.round, a) not in self.votes]

    def unrevealed(self) -> list[str]:
        return [
            a
            for a in self.current.panel
            if (v := self.votes.get((self.round, a))) is not None and not v.revealed
        ]

    def plurality(self) -> tuple[int, bool]:
        """The current round's ruling and tie flag from the revealed votes, as `tally` counts them."""
        counts = [0, 0, 0]
        for (index, _), vote in self.votes.items():
            if index == self.round and vote.revealed:
                counts[vote.choice] += 1
        leaders = [choice for choice, n in enumerate(counts) if n == max(counts)]
        return (0, True) if len(leaders) > 1 else (leaders[0], False)


@dataclass
class JobModel:
    """A posted job; status and deadline are the chain's as of the last check."""

    terms: JobTerms
    id: bytes
    status: int = JobStatus.OPEN  # what the machine expects
    seen: int = JobStatus.OPEN  # what the chain last said
    deadline: int = 0
    evidence: bytes = b""
    attested: dict[str, bool] = field(default_factory=dict)  # operator -> approve, until the verdict
    verdict_by: set[str] = field(default_factory=set)  # operators who attested the verdict
    disputed_from: int | None = None  # the status a dispute took the job from
    dispute: DisputeModel | None = None
    record: Any = None  # escrow.disputeOf
    reads: Any = None  # positions of its views in the current batch

    def escrow_holds(self) -> int:
        """What the escrow holds for this job (docs/protocol.md, "Money" and "Disputes").

        Posting brings reward + both fees; the verdict credits the oracle fee to the attesters; a
        dispute adds the disputer's bond and passes the fee on to the pool, except that a worker
        disputing with `fromReward` brings nothing and the fee leaves the reward already held.
        """
        t = self.terms
        if self.status in UNSETTLED:
            return t.total
        if self.status in (JobStatus.APPROVED, JobStatus.REJECTED):
            return t.reward + t.protocol_fee
        if self.status == JobStatus.DISPUTED:
            held = t.reward + t.protocol_fee
            if self.disputed_from == JobStatus.SUBMITTED:  # the oracle never earned its fee
                held += t.oracle_fee
            return held - self.record.fee if self.record.fromReward else held + self.record.bond
        return 0

    def may_dispute(self, who: str, worker: str, now: int) -> bool:
        """JobEscrow._mayDispute."""
        agent = who == self.terms.agent
        if self.status == JobStatus.APPROVED:
            return agent and now <= self.deadline
        if self.status == JobStatus.REJECTED:
            return who == worker and now <= self.deadline
        if self.status == JobStatus.SUBMITTED:
            return (
                agent or who == worker
            ) and self.deadline < now <= self.deadline + self.terms.challenge_window
        return False

    def settles_not_before(self, now: int) -> int | None:
        """None when `settle` moves the money now, else the `notBefore` of its NothingToSettle."""
        if self.status == JobStatus.DISPUTED and (self.record.ruled or now > self.deadline):
            return None
        not_before = self.deadline + (
            self.terms.challenge_window if self.status == JobStatus.SUBMITTED else 0
        )
        if self.status > JobStatus.REJECTED or now <= not_before:
            return not_before
        return None
