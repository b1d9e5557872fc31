"""The engine's records: a ticket in, a decision with reasons and job requirements out."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from protocol_core.errors import UnknownLanguage
from protocol_core.languages import language_index

_FROZEN = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Trigger(StrEnum):
    """The four reasons a ticket can leave the agent."""

    LOW_CONFIDENCE = "low_confidence"
    FRUSTRATION = "frustration"
    COMPLIANCE_LEGAL = "compliance_legal"
    NOVEL = "novel"


class Action(StrEnum):
    """What the agent does with the ticket."""

    ESCALATE = "escalate"
    OFFER_HUMAN = "offer_human"
    CONTINUE = "continue"


class Message(BaseModel):
    """One turn of the conversation."""

    model_config = _FROZEN

    role: Literal["customer", "agent"]
    text: str = Field(min_length=1)
    ts: int = Field(ge=0)  # unix seconds


class Ticket(BaseModel):
    """A support conversation as the agent sees it when deciding."""

    model_config = _FROZEN

    id: str | None = None  # the helpdesk's ticket id, echoed in the decision
    language: str  # ISO 639-1, one of protocol_core.languages.LANGUAGES
    messages: tuple[Message, ...] = Field(min_length=1)
    agent_confidence: float = Field(ge=0.0, le=1.0)  # the agent's confidence in proposed_reply
    proposed_reply: str | None = None
    refund_amount: float | None = Field(default=None, ge=0.0)  # USD asked or offered
    customer_value_usd: float | None = Field(default=None, ge=0.0)  # yearly spend, when the CRM knows it

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        try:
            language_index(value)
        except UnknownLanguage as exc:
            raise ValueError(str(exc)) from None
        return value.lower()

    @model_validator(mode="after")
    def _has_customer(self) -> "Ticket":
        if not any(m.role == "customer" for m in self.messages):
            raise ValueError("messages hold no customer message; a ticket starts with the customer's words")
        return self

    def customer_texts(self) -> list[str]:
        """The customer's messages, in order."""
        return [m.text for m in self.messages if m.role == "customer"]

    def opening(self) -> str:
        """The customer's words before the first agent reply: where the problem is stated."""
        texts: list[str] = []
        for message in self.messages:
            if message.role == "agent" and texts:
                break
            if message.role == "customer":
                texts.append(message.text)
        return "\n".join(texts)


class Reason(BaseModel):
    """One machine-readable reason, with its words and the evidence that raised it."""

    model_config = _FROZEN

    code: str  # e.g. "compliance.data_request", "frustration.caps"
    trigger: Trigger
    text: str  # the reason in words, for the worker and the audit log
    evidence: str = ""  # the matched words or the figure, never a whole message


class DetectorResult(BaseModel):
    """What one detector says about a ticket: a score in [0, 1], whether it fired, and why."""

    model_config = _FROZEN

    trigger: Trigger
    score: float
    fired: bool
    near: bool = False  # close to firing: the policy may offer a human
    reasons: tuple[Reason, ...] = ()


class JobRequirements(BaseModel):
    """What the job the agent would post asks of its worker, and what it pays."""

    model_config = _FROZEN

    language: str  # ISO 639-1 code of the ticket
    language_bit: int  # index in protocol_core.languages.LANGUAGES (Requirements.language on chain)
    certifications: int  # bit mask, all required (IWorkerRegistry.Requirements.certifications)
    certification_names: tuple[str, ...]
    expertise: int  # bit mask, all required
    expertise_names: tuple[str, ...]
    reward: int  # USDC base units (6 decimals), as JobTerms.reward
    resolve_within_s: int  # resolve-by minus posting time
    priority: Literal["normal", "high", "urgent"]


class Decision(BaseModel):
    """The engine's answer for one ticket."""

    model_config = _FROZEN

    ticket_id: str | None
    should_escalate: bool
    action: Action
    triggers: tuple[Trigger, ...]
    reasons: tuple[Reason, ...]
    scores: dict[str, float]  # per trigger, for dry runs and tuning
    requirements: JobRequirements | None  # set when action is escalate or offer_human
