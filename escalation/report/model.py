"""What a run of the support operation measured: the report's typed record (pure data, no I/O).

Money is in USDC base units (6 decimals); durations are seconds of the run's clock (simulated time
it skipped is counted apart).
"""

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    model_validator,
)

from escalation.models import Trigger
from escalation.report.assumptions import Assumptions
from protocol_core.enums import RulingOption

USDC = 10**6  # base units in one USDC
_RECORD = ConfigDict(frozen=True, extra="forbid")


class RunParams(BaseModel):
    """How the run was started."""

    model_config = _RECORD
    tickets: PositiveInt  # tickets the run was asked to simulate
    seed: int  # seed of the ticket stream and the simulated people
    speed: float = Field(gt=0)  # simulated seconds per wall-clock second
    simulated_days: float | None = Field(None, gt=0)  # simulated time the tickets spread over
    chain: str = "anvil (polygon:local)"  # where the transactions ran
    started_at: datetime | None = None  # wall-clock start, UTC
    wall_clock_s: NonNegativeFloat | None = None  # how long the run took


class TicketCounts(BaseModel):
    """Where the tickets went."""

    model_config = _RECORD
    total: NonNegativeInt  # tickets in the stream
    handled_by_ai: NonNegativeInt  # answered by the AI agent, never escalated
    escalated: NonNegativeInt  # handed to the desk
    matched: NonNegativeInt  # escalated tickets a worker accepted
    resolved: NonNegativeInt  # paid: the oracle (or a ruling) approved the worker's resolution
    refunded: NonNegativeInt  # the agent got the reward back (rejected, expired, ruled against)

    @model_validator(mode="after")
    def _adds_up(self) -> "TicketCounts":
        if self.handled_by_ai + self.escalated != self.total:
            raise ValueError(
                f"handled_by_ai ({self.handled_by_ai}) + escalated ({self.escalated}) must equal "
                f"total ({self.total}): count every ticket exactly once"
            )
        if self.matched > self.escalated or self.resolved > self.matched:
            raise ValueError(
                f"expected resolved ({self.resolved}) <= matched ({self.matched}) <= escalated "
                f"({self.escalated}): a paid ticket was accepted, an accepted one escalated"
            )
        if self.resolved + self.refunded > self.escalated:
            raise ValueError(
                f"resolved ({self.resolved}) + refunded ({self.refunded}) exceed escalated "
                f"({self.escalated}): a ticket ends paid or refunded, not both"
            )
        return self


class ReasonCounts(BaseModel):
    """Escalated tickets per trigger; a ticket with several triggers counts under each."""

    model_config = _RECORD
    low_confidence: NonNegativeInt = 0
    frustration: NonNegativeInt = 0
    compliance_legal: NonNegativeInt = 0
    novel: NonNegativeInt = 0

    @classmethod
    def tally(cls, triggers_per_ticket: Iterable[Iterable[Trigger]]) -> "ReasonCounts":
        """Counts the triggers of each escalated ticket (each trigger once per ticket)."""
        counts = dict.fromkeys(Trigger, 0)
        for triggers in triggers_per_ticket:
            for trigger in set(triggers):
                counts[Trigger(trigger)] += 1
        return cls(**{trigger.value: n for trigger, n in counts.items()})

    def items(self) -> list[tuple[Trigger, int]]:
        """(trigger, tickets) in the policy's order."""
        return [(trigger, getattr(self, trigger.value)) for trigger in Trigger]


class Ruling(StrEnum):
    """How a dispute ended, in words (protocol_core's RulingOption, plus not ruled yet)."""

    PAY_WORKER = "pay_worker"
    REFUND_AGENT = "refund_agent"
    SPLIT = "split"
    PENDING = "pending"

    @classmethod
    def of(cls, option: RulingOption | int) -> "Ruling":
        """The ruling an arbitration round delivered, from its on-chain option."""
        return {
            RulingOption.PAY_WORKER: cls.PAY_WORKER,
            RulingOption.REFUND_AGENT: cls.REFUND_AGENT,
            RulingOption.SPLIT: cls.SPLIT,
        }[RulingOption(option)]


class Dispute(BaseModel):
    """One disputed ticket and its ruling."""

    model_config = _RECORD
    ticket: str = Field(min_length=1)  # the helpdesk's ticket reference or the job id
    opened_by: Literal["agent", "worker"]  # who disputed the oracle's verdict
    ruling: Ruling = Ruling.PENDING


class TicketTiming(BaseModel):
    """One escalated ticket's clock; the skipped seconds say how much of it the run jumped over."""

    model_config = _RECORD
    ticket: str = Field(min_length=1)
    to_acceptance_s: NonNegativeFloat | None = None  # escalation -> a worker accepted; None if never
    to_payment_s: NonNegativeFloat | None = None  # escalation -> the worker was paid; None if never
    skipped_to_acceptance_s: NonNegativeFloat = 0  # simulated time skipped before acceptance
    skipped_to_payment_s: NonNegativeFloat = 0  # simulated time skipped before payment (includes the above)
    skipped_for: str = ""  # why time was skipped, e.g. "challenge window (chain time advanced)"

    @model_validator(mode="after")
    def _consistent(self) -> "TicketTiming":
        pairs = ((self.to_acceptance_s, self.skipped_to_acceptance_s, "acceptance"),
                 (self.to_payment_s, self.skipped_to_payment_s, "payment"))  # fmt: skip
        for duration, skipped, name in pairs:
            if skipped > (duration if duration is not None else 0):
                raise ValueError(
                    f"{self.ticket}: skipped time before {name} ({skipped} s) exceeds the "
                    f"time to {name} ({duration}); skipped time is part of the duration"
                )
        if self.skipped_to_acceptance_s > self.skipped_to_payment_s and self.to_payment_s is not None:
            raise ValueError(f"{self.ticket}: time skipped before payment includes that before acceptance")
        if (self.to_acceptance_s is not None and self.to_payment_s is not None
                and self.to_payment_s < self.to_acceptance_s):  # fmt: skip
            raise ValueError(f"{self.ticket}: paid ({self.to_payment_s} s) before accepted "
                             f"({self.to_acceptance_s} s); check the two timestamps")  # fmt: skip
        if (self.skipped_to_acceptance_s or self.skipped_to_payment_s) and not self.skipped_for:
            raise ValueError(f"{self.ticket}: say why simulated time was skipped (skipped_for)")
        return self


class Money(BaseModel):
    """Where the USDC went, each flow on its own (base units, 6 decimals)."""

    model_config = _RECORD
    rewards_paid: NonNegativeInt = 0  # to workers, for paid tickets (a split ruling's half included)
    refunds: NonNegativeInt = 0  # back to the agent: rewards and protocol fees of refunded tickets
    oracle_fees: NonNegativeInt = 0  # to the oracle operators who attested
    protocol_fees: NonNegativeInt = 0  # to the treasury, slash proceeds not included
    slashes: NonNegativeInt = 0  # taken from the stakes of operators a ruling proved wrong
    arbitration_fees: NonNegativeInt = 0  # paid by disputers to the arbitrators' panels

    def flows(self) -> list[tuple[str, int]]:
        """(label, base units) for each flow, in a fixed order."""
        return [(name.replace("_", " "), getattr(self, name)) for name in type(self).model_fields]

    @property
    def spent(self) -> int:
        """What the agent's side paid for the outcomes: rewards and the two fees."""
        return self.rewards_paid + self.oracle_fees + self.protocol_fees


class Gas(BaseModel):
    """Gas the run's transactions used."""

    model_config = _RECORD
    per_paid_ticket: list[PositiveInt] = []  # all transactions of one paid ticket, summed, per ticket
    per_step: dict[str, list[PositiveInt]] = {}  # step name -> gas of each transaction of that step


class PeriodRate(BaseModel):
    """The autonomous-resolution rate in one simulated period."""

    model_config = _RECORD
    period: str = Field(min_length=1)  # "day 3", "week 2"
    tickets: NonNegativeInt  # tickets that arrived in the period
    rate: float = Field(ge=0, le=1)  # share of them the AI resolved without a human


class OperationReport(BaseModel):
    """Everything one run measured, plus the assumptions its costs are computed with."""

    model_config = _RECORD
    params: RunParams
    tickets: TicketCounts
    reasons: ReasonCounts = ReasonCounts()
    disputes: list[Dispute] = []
    timings: list[TicketTiming] = []
    money: Money = Money()
    gas: Gas = Gas()
    autonomy: list[PeriodRate] = []  # in time order
    assumptions: Assumptions = Assumptions()
    notes: list[str] = []  # anything the run must say (a reverted attestation, a node restarted)

    @model_validator(mode="after")
    def _fits_the_counts(self) -> "OperationReport":
        escalated = self.tickets.escalated
        over = [(t.value, n) for t, n in self.reasons.items() if n > escalated]
        if over:
            raise ValueError(f"reasons {over} count more tickets than were escalated ({escalated})")
        reasons = sum(n for _, n in self.reasons.items())
        if escalated and reasons < escalated:
            raise ValueError(f"every escalated ticket has at least one reason: the reasons add up to "
                             f"{reasons} for {escalated} escalated")  # fmt: skip
        if len(self.disputes) > escalated or len(self.timings) > escalated:
            raise ValueError(f"{len(self.disputes)} disputes and {len(self.timings)} timings for "
                             f"{escalated} escalated tickets: only escalated tickets have them")  # fmt: skip
        if len(self.gas.per_paid_ticket) > self.tickets.resolved:
            raise ValueError(f"gas for {len(self.gas.per_paid_ticket)} paid tickets but only "
                             f"{self.tickets.resolved} were resolved")  # fmt: skip
        return self

    @property
    def disputed(self) -> int:
        """Disputed tickets."""
        return len(self.disputes)
