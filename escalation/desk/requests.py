"""What the agent asks of the desk and what it is told back: requests, desk statuses, job views."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from escalation.models import Trigger
from protocol_core.context import DocLink, Message
from protocol_core.enums import JobStatus

API_KEY_HEADER = "X-Api-Key"  # the company's API key on every call to the desk's API


class DeskStatus(StrEnum):
    """A desk job's status: the chain's status once posted, and the desk's own before that."""

    AWAITING_APPROVAL = "awaiting_approval"  # over the approval threshold; nothing posted
    POSTING = "posting"  # the post is sent, not yet seen on chain
    FAILED = "failed"  # the post reverted; nothing was spent but gas
    OPEN = "open"
    ACCEPTED = "accepted"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISPUTED = "disputed"
    PAID = "paid"
    REFUNDED = "refunded"

    @classmethod
    def of(cls, status: JobStatus) -> "DeskStatus":
        """The desk status of a posted job's chain status."""
        return cls(status.name.lower())

    @property
    def final(self) -> bool:
        """Nothing more happens to the job."""
        return self in (DeskStatus.PAID, DeskStatus.REFUNDED, DeskStatus.FAILED)


class EscalationRequest(BaseModel):
    """A ticket to hand to a human: its context, the reward and what the worker must bring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticket_ref: str = Field(min_length=1, max_length=128)
    language: str = Field(min_length=2, max_length=3)  # ISO 639-1
    issue: str = Field(max_length=20_000)
    conversation: tuple[Message, ...] = ()
    customer: dict[str, str] = Field(default_factory=dict)
    docs: tuple[DocLink, ...] = ()
    acceptance_criteria: tuple[str, ...] = Field(min_length=1)
    reward: int = Field(gt=0, lt=2**96)  # USDC base units (6 decimals)
    expertise: int = Field(default=0, ge=0, lt=2**64)
    certifications: int = Field(default=0, ge=0, lt=2**32)
    accept_within_s: int = Field(default=3_600, ge=60, le=30 * 86_400)
    resolve_within_s: int = Field(default=86_400, ge=60, le=90 * 86_400)
    challenge_window_s: int = Field(default=0, ge=0, lt=2**32)
    offered_to: str | None = None  # a worker address the job is reserved for
    customer_utc_offset_h: float | None = Field(
        default=None, ge=-12, le=14
    )  # matching prefers nearby workers
    callback_url: str | None = Field(default=None, max_length=2_000)
    # the decision behind the escalation, for the learning log (docs/escalation.md)
    triggers: tuple[Trigger, ...] = ()  # the decision's triggers; none: the log cannot say why
    agent_confidence: float | None = Field(default=None, ge=0.0, le=1.0)  # the agent's, when it decided


class SealView(BaseModel):
    """Where one reader finds its sealed copy."""

    reader: str
    role: str
    uri: str
    blob: str


class JobView(BaseModel):
    """What the desk knows of one escalation."""

    desk_id: str
    ticket_ref: str
    status: DeskStatus
    job_id: str | None
    reward: int
    total: int
    worker: str | None
    deadline: int | None
    dispute_id: int | None
    redactions: dict[str, int]
    seals: list[SealView]
    confirmation: dict[str, str | int] | None


class Budget(BaseModel):
    """Today's spend (UTC) against the company's policy, in USDC base units."""

    day: str
    committed: int
    daily_budget: int
    max_reward: int
    approval_threshold: int


class Withdrawal(BaseModel):
    """What a withdrawal of the agent's credited refunds sent (0: nothing was credited)."""

    amount: int
