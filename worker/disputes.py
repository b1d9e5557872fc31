"""A dispute as the worker follows it past the phase: the panel's votes one by one as they are revealed
(who, when, which side), and the appeal of a ruling against the worker, its cost and deadline said
before anything is signed. An appeal is the worker's own transaction, like the dispute."""

from dataclasses import dataclass

from protocol_core.enums import JobStatus, RoundPhase, RulingOption

from .core import Core
from .errors import Refused
from .index import JobRow, VoteRow
from .money import usdc
from .wallet import Keys
from .work import current


@dataclass(frozen=True)
class AppealOffer:
    """What appealing the current ruling costs, until when, and the panel it draws."""

    cost: int  # USDC base units, pulled from the worker's wallet
    deadline: int  # the round's appeal end (unix seconds, the chain's clock)
    panel_size: int  # of the next round: 2n + 1


@dataclass(frozen=True)
class Panel:
    """The current round of a job's dispute: its panel, the votes revealed so far, and the appeal."""

    dispute_id: int
    round: int  # 0 for the first panel; each appeal opens the next
    size: int
    phase: RoundPhase
    votes: tuple[VoteRow, ...]  # every round's, in the order they were revealed
    tallied: RulingOption | None  # the current round's ruling once counted (final or appealable)
    appeal: AppealOffer | None  # when the worker may appeal now
    others_may_appeal_until: int  # the company may appeal a ruling for the worker until then (0: no)
    last_round: bool  # no appeal is left after this round

    @property
    def revealed(self) -> int:
        """Votes revealed in the current round."""
        return sum(1 for vote in self.votes if vote.round == self.round)


def panel(core: Core, job: JobRow) -> Panel | None:
    """The job's dispute as its panel stands now; None when it has none (or no pool is deployed)."""
    chain = core.chain
    if chain.pool is None or not job.dispute_id:
        return None
    dispute_id = job.dispute_id
    phase = chain.read(chain.pool.phase, dispute_id)
    index = chain.current_round(dispute_id)
    now_round = chain.read(chain.pool.round_of, dispute_id, index)
    last = index + 1 >= chain.arbitration("maxRounds")
    tallied = None
    if phase in (RoundPhase.APPEALABLE, RoundPhase.FINAL):
        tallied = RulingOption(chain.arbitration("currentRuling", dispute_id))
    open_to_appeal = phase == RoundPhase.APPEALABLE and not last and chain.now() <= now_round.appeal_end
    offer, others = None, 0
    if open_to_appeal and tallied != RulingOption.PAY_WORKER:  # a split is against both: either may appeal
        offer = AppealOffer(chain.arbitration("appealCost", dispute_id), now_round.appeal_end,
                            2 * now_round.panel_size + 1)  # fmt: skip
    elif open_to_appeal:
        others = now_round.appeal_end
    return Panel(dispute_id, index, now_round.panel_size, phase, tuple(core.index.votes(dispute_id)),
                 tallied, offer, others, last)  # fmt: skip


def appeal(core: Core, keys: Keys, job_id: str) -> str:
    """Appeals the ruling against the worker: approves the cost if needed, then `appeal` on the escrow."""
    job = current(core, job_id)
    if (job.worker or "").lower() != keys.address.lower():
        raise Refused(detail="refusal.not_your_appeal")
    if job.status != JobStatus.DISPUTED:
        raise Refused(detail="refusal.not_disputed", status=job.status.name.lower())
    core.index.sync(core.chain)  # the dispute id, if the follower has not seen it yet
    found = panel(core, core.index.job(job_id) or job)
    if found is None or found.appeal is None:
        raise why_no_appeal(found)
    cost = found.appeal.cost
    chain = core.chain
    balance = chain.balance(keys.address)
    if balance < cost:
        raise Refused(detail="refusal.appeal_cost", cost=usdc(cost), held=usdc(balance))
    if chain.allowance(keys.address, chain.escrow.address) < cost:
        chain.send(keys.account, chain.approve(chain.escrow.address, cost))
    tx = chain.send(keys.account, chain.escrow.appeal(job.terms))
    core.index.sync(chain)
    return tx


def why_no_appeal(found: Panel | None) -> Refused:
    """Why the worker cannot appeal now, in words."""
    if found is None:
        return Refused(detail="refusal.no_dispute")
    if found.tallied == RulingOption.PAY_WORKER:
        return Refused(detail="refusal.ruling_for_you")
    if found.last_round and found.phase == RoundPhase.APPEALABLE:
        return Refused(detail="refusal.last_round")
    if found.phase == RoundPhase.APPEALABLE:
        return Refused(detail="refusal.appeal_passed")
    return Refused(detail="refusal.not_ruled", phase=found.phase.name.lower())
