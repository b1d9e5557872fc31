"""Money and disputes: earnings per job and in total, credits that need a withdrawal, and a dispute of a
rejection (its cost said first) with the worker's statement. These are the worker's own transactions."""

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from eth_utils import is_address, to_checksum_address

from protocol_core.enums import JobStatus, RoundPhase, RulingOption

from .core import Core
from .errors import BadInput, Refused
from .index import JobRow
from .wallet import Keys
from .work import current

USDC_UNIT = 10**6


def usdc(amount: int) -> str:
    """USDC base units as money with two decimals (rounded down: never more than is there)."""
    return str((Decimal(amount) / USDC_UNIT).quantize(Decimal("0.01"), rounding=ROUND_DOWN))


@dataclass(frozen=True)
class Money:
    """What the worker earned and what waits for it."""

    paid: list[tuple[JobRow, int]]  # (job, amount paid)
    total: int
    credit: int  # in the escrow: a payout the token refused, waiting for `withdraw`
    balance: int  # in the wallet


def money(core: Core, address: str) -> Money:
    """Earnings per job from the index; credit and balance from the chain."""
    paid = [(job, job.paid) for job in core.index.mine(address) if job.paid]
    chain = core.chain
    credit = chain.read(chain.escrow.credit_of, address)
    return Money(paid, sum(amount for _, amount in paid), credit, chain.balance(address))


def withdraw(core: Core, keys: Keys, to: str | None) -> str:
    """Withdraws the credit to `to` (another address when the wallet's own cannot receive)."""
    target = (to or keys.address).strip()
    if not is_address(target):
        raise BadInput(detail="refusal.not_an_address", target=target)
    credit = core.chain.read(core.chain.escrow.credit_of, keys.address)
    if credit == 0:
        raise Refused(detail="refusal.nothing_to_withdraw")
    return core.chain.send(keys.account, core.chain.escrow.withdraw(to_checksum_address(target)))


def dispute_cost(core: Core, job: JobRow) -> tuple[int, int]:
    """(arbitration fee, bond) a dispute of this job costs now."""
    return core.chain.read(core.chain.escrow.dispute_cost, job.reward)


def dispute(core: Core, keys: Keys, job_id: str, statement: str) -> str:
    """Disputes a rejection: approves the fee and bond if needed, disputes, then adds the statement."""
    job = current(core, job_id)
    if (job.worker or "").lower() != keys.address.lower():
        raise Refused(detail="refusal.not_your_dispute")
    if job.status not in (JobStatus.REJECTED, JobStatus.SUBMITTED):
        raise Refused(detail="refusal.not_rejected", status=job.status.name.lower())
    fee, bond = dispute_cost(core, job)
    balance = core.chain.balance(keys.address)
    if balance < fee + bond:
        raise Refused(detail="refusal.dispute_cost", cost=usdc(fee + bond), held=usdc(balance))
    chain = core.chain
    if chain.allowance(keys.address, chain.escrow.address) < fee + bond:
        chain.send(keys.account, chain.approve(chain.escrow.address, fee + bond))
    tx = chain.send(keys.account, chain.escrow.dispute(job.terms))
    core.index.sync(chain)
    if statement.strip():
        add_statement(core, keys, job_id, statement)
    return tx


def add_statement(core: Core, keys: Keys, job_id: str, statement: str) -> str:
    """The worker's statement for the panel: kept by the desk, which puts it in the arbitrators' sealed
    case files, and named on chain (ERC-1497 evidence) by its content-addressed URI only."""
    if not statement.strip() or len(statement) > 4000:
        raise BadInput(detail="refusal.statement_length")
    core.index.save_work(job_id, statement=statement)  # kept here first: a refusal below loses nothing
    uri = core.desk.store_statement(keys, job_id, statement)
    return core.chain.send(
        keys.account, core.chain.escrow.submit_dispute_evidence(bytes.fromhex(job_id[2:]), uri)
    )


@dataclass(frozen=True)
class DisputeView:
    """A dispute as the worker follows it."""

    dispute_id: int
    phase: str
    ruled: bool
    ruling: str
    commit_end: int
    reveal_end: int
    appeal_end: int


def dispute_view(core: Core, job: JobRow) -> DisputeView | None:
    """The job's dispute: its panel's phase and deadlines, and the ruling once given."""
    chain = core.chain
    info = chain.read(chain.escrow.dispute_of, bytes.fromhex(job.job_id[2:]))
    if info.dispute_id == 0 and job.dispute_id is None:
        return None
    phase, rounds = RoundPhase.NONE, None
    if chain.pool is not None:
        phase = chain.read(chain.pool.phase, info.dispute_id)
        rounds = chain.read(chain.pool.round_of, info.dispute_id, chain.current_round(info.dispute_id))
    return DisputeView(
        info.dispute_id,
        phase.name.lower(),
        info.ruled,
        RulingOption(info.ruling).name.lower(),
        rounds.commit_end if rounds else 0,
        rounds.reveal_end if rounds else 0,
        rounds.appeal_end if rounds else 0,
    )
