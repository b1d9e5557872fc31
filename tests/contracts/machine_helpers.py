"""The Python model of the protocol that the state machine in test_invariants.py checks the chain against."""

from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from protocol_core.enums import JobStatus
from protocol_core.terms import JobTerms

ESCROW = "escrow"  # key of the escrow's own token balance in `Model.balances`
ORACLE = "oracle"  # key of the oracle's own token balance
FINAL = {JobStatus.PAID, JobStatus.REFUNDED}
ANY_REVERT = object()  # a revert raised by another contract than the one called (the token)
WORKING = {JobStatus.ACCEPTED, JobStatus.SUBMITTED}  # the states that hold a registry capacity slot


@dataclass
class Job:
    """What the model expects of one posted job."""

    terms: JobTerms
    id: bytes
    status: JobStatus = JobStatus.OPEN
    worker: str | None = None
    deadline: int = 0
    evidence: bytes | None = None
    verdict_recorded: bool = False  # the oracle fee has left the job's funds
    approvals: list[int] = field(default_factory=list)  # operator positions, oracle tally
    rejections: list[int] = field(default_factory=list)
    # position -> (its stake, all it had been slashed) when it attested: what stays liable
    liable: dict[int, tuple[int, int]] = field(default_factory=dict)
    verdict_by: list[int] = field(default_factory=list)  # positions that attested the verdict
    dispute: "Dispute | None" = None

    @property
    def held(self) -> int:
        """What the escrow must still hold for this job."""
        if self.status in FINAL:
            return 0
        t = self.terms
        bond = self.dispute.bond if self.dispute and self.status == JobStatus.DISPUTED else 0
        return t.total - (t.oracle_fee if self.verdict_recorded else 0) + bond

    def not_before(self) -> int:
        """When `settle` may act: strictly after this time."""
        extra = self.terms.challenge_window if self.status == JobStatus.SUBMITTED else 0
        return self.deadline + extra

    def settleable(self, now: int) -> bool:
        """Whether `settle` moves this job at `now`."""
        if self.status == JobStatus.DISPUTED:
            return self.dispute is not None and (self.dispute.ruling is not None or now > self.deadline)
        return JobStatus.OPEN <= self.status <= JobStatus.REJECTED and now > self.not_before()


@dataclass
class Dispute:
    """The agent's dispute of an approval: what it paid and what the arbitrator ruled."""

    id: int
    fee: int
    bond: int
    ruling: int | None = None  # None until `rule` arrives


@dataclass
class Worker:
    """What the model expects of one registry profile."""

    address: str
    languages: int
    expertise: int
    max_concurrent: int
    available: bool = True
    completed: int = 0
    missed: int = 0


@dataclass
class Operator:
    """What the model expects of one oracle operator."""

    address: str
    stake: int
    active: bool = True
    unstaking: int = 0
    unstake_at: int = 0
    slashed: int = 0  # all it has been slashed


@dataclass
class Model:
    """Expected token balances, credits, fees and job states of one example."""

    balances: dict[str, int]
    credits: dict[str, int]
    workers: list[Worker]
    operators: list[Operator]
    oracle_fee: int
    protocol_fee_bps: int
    set_nonce: int  # the oracle's; signed into every attestation
    quorum: int  # the oracle's; governance may change it, which bumps `set_nonce`
    protocol_fees: int = 0
    operator_fees: dict[str, int] = field(default_factory=dict)  # oracle fees in each operator's lane
    paused: bool = False
    jobs: list[Job] = field(default_factory=list)
    blacklisted: set[str] = field(default_factory=set)
    armed: bool = False  # TestReentrantToken calls back on every transfer
    callbacks_attempted: int = 0
    callbacks_succeeded: int = 0

    def quote(self, reward: int) -> tuple[int, int]:
        """`JobEscrow.quote`."""
        return self.oracle_fee, reward * self.protocol_fee_bps // 10_000

    def active_jobs(self, worker: str) -> int:
        """Jobs holding a capacity slot of `worker`."""
        return sum(1 for j in self.jobs if j.worker == worker and j.status in WORKING)

    def worker(self, address: str) -> Worker:
        """The profile of `address`."""
        return next(w for w in self.workers if w.address == address)

    def transfer(self, src: str, dst: str, amount: int) -> None:
        """A token transfer that goes through (the reentrant token calls back first)."""
        if self.armed:
            self.callbacks_attempted += 1
        self.balances[src] -= amount
        self.balances[dst] = self.balances.get(dst, 0) + amount

    def credit(self, account: str, amount: int) -> None:
        """`JobEscrow._credit`."""
        if amount:
            self.credits[account] = self.credits.get(account, 0) + amount

    def push(self, to: str, amount: int) -> None:
        """`JobEscrow._push`: transfer, or credit when the token refuses the recipient."""
        if amount == 0:
            return
        if to in self.blacklisted:
            self.credit(to, amount)
        else:
            self.transfer(ESCROW, to, amount)

    def share_oracle_fee(self, fee: int, attesters: list[str]) -> None:
        """`JobEscrow._shareOracleFee`: equal shares; the attester with the lowest index takes the dust."""
        order = [op.address for op in self.operators]  # added in this order: index i + 1
        ranked = sorted(attesters, key=order.index)
        share = fee // len(ranked)
        for i, a in enumerate(ranked):
            amount = share + (fee - share * len(ranked) if i == 0 else 0)
            self.operator_fees[a] = self.operator_fees.get(a, 0) + amount

    def pay_worker(self, job: Job) -> None:
        """`JobEscrow._payWorker`."""
        job.status = JobStatus.PAID
        self.protocol_fees += job.terms.protocol_fee
        assert job.worker is not None
        self.push(job.worker, job.terms.reward)

    def refund(self, job: Job, amount: int) -> None:
        """`JobEscrow._refund`."""
        job.status = JobStatus.REFUNDED
        self.push(job.terms.agent, amount)

    def record_verdict(self, job: Job, approved: bool, attesters: list[str], now: int) -> None:
        """`JobEscrow.recordVerdict` once the checks passed."""
        job.verdict_recorded = True
        job.approvals, job.rejections = [], []
        self.share_oracle_fee(job.terms.oracle_fee, attesters)
        if job.terms.challenge_window:
            job.status = JobStatus.APPROVED if approved else JobStatus.REJECTED
            job.deadline = now + job.terms.challenge_window
        elif approved:
            self.worker(job.worker).completed += 1  # type: ignore[arg-type]
            self.pay_worker(job)
        else:
            self.refund(job, job.terms.reward + job.terms.protocol_fee)

    def settle(self, job: Job) -> None:
        """`JobEscrow.settle` once `job.settleable(now)`."""
        t = job.terms
        if job.status == JobStatus.APPROVED:
            self.worker(job.worker).completed += 1  # type: ignore[arg-type]
            self.pay_worker(job)
        elif job.status == JobStatus.REJECTED:
            self.refund(job, t.reward + t.protocol_fee)
        elif job.status == JobStatus.ACCEPTED:
            self.worker(job.worker).missed += 1  # type: ignore[arg-type]
            self.refund(job, t.total)
        else:  # Open (nobody accepted) or Submitted (the oracle missed its deadline)
            self.refund(job, t.total)


class ChainView:
    """Reads many view functions in one JSON-RPC batch: one round trip per step, not forty."""

    def __init__(self, web3: Any) -> None:
        self._w3 = web3
        self._calls: list[tuple[str, bytes, tuple[str, ...]]] = []

    def add(self, to: Any, signature: str, args: tuple[Any, ...], returns: tuple[str, ...]) -> int:
        """Queues `to.signature(*args)`; returns its index in `execute()`'s result."""
        name_types = signature[signature.index("(") + 1 : -1]
        arg_types = [t for t in name_types.split(",") if t]
        data = function_signature_to_4byte_selector(signature) + encode(arg_types, list(args))
        self._calls.append((str(to), data, returns))
        return len(self._calls) - 1

    def execute(self) -> tuple[list[tuple[Any, ...]], int]:
        """The decoded results, in order, and the latest block's timestamp."""
        w3 = self._w3
        with w3.batch_requests() as batch:
            for to, data, _ in self._calls:
                batch.add(w3.eth.call({"to": to, "data": "0x" + data.hex()}, "latest"))
            batch.add(w3.eth.get_block("latest"))
            raw = batch.execute()
        results = [
            decode(list(ret), bytes(out)) for (_, _, ret), out in zip(self._calls, raw[:-1], strict=True)
        ]
        self._calls = []
        return results, raw[-1]["timestamp"]
