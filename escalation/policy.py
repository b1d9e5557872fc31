"""The policy: detector results become escalate / offer a human / continue, and the job's requirements."""

from typing import Literal

from protocol_core.languages import language_index

from .config import EngineConfig, RequirementsConfig
from .models import Action, Decision, DetectorResult, JobRequirements, Reason, Ticket, Trigger

USDC = 1_000_000  # base units per USDC (6 decimals)


def _bits(names: set[str], table: dict[str, int]) -> int:
    mask = 0
    for name in names:
        mask |= 1 << table[name]
    return mask


def requirements_for(
    ticket: Ticket, triggers: tuple[Trigger, ...], reasons: tuple[Reason, ...], config: RequirementsConfig
) -> JobRequirements:
    """The job the agent would post: language from the ticket, certifications and reward from the reasons."""
    codes = {reason.code for reason in reasons}
    certifications = {name for code in codes for name in config.reason_certifications.get(code, [])}
    expertise = {name for code in codes for name in config.reason_expertise.get(code, [])}
    reward = config.base_reward_usdc + sum(config.reward_extra_usdc.get(t.value, 0.0) for t in triggers)
    resolve_within = config.resolve_within_s
    priority: Literal["normal", "high", "urgent"] = (
        "high" if Trigger.COMPLIANCE_LEGAL in triggers else "normal"
    )
    value = max(ticket.customer_value_usd or 0.0, ticket.refund_amount or 0.0)
    if Trigger.FRUSTRATION in triggers and value >= config.high_value_usd:
        reward *= config.angry_high_value_multiplier
        resolve_within = min(resolve_within, config.angry_high_value_resolve_within_s)
        priority = "urgent"
    return JobRequirements(
        language=ticket.language,
        language_bit=language_index(ticket.language),
        certifications=_bits(certifications, config.certification_bits),
        certification_names=tuple(sorted(certifications)),
        expertise=_bits(expertise, config.expertise_bits),
        expertise_names=tuple(sorted(expertise)),
        reward=round(reward * USDC),
        resolve_within_s=resolve_within,
        priority=priority,
    )


def decide(ticket: Ticket, results: list[DetectorResult], config: EngineConfig) -> Decision:
    """A fired detector escalates (compliance whatever the confidence); one near firing offers a human."""
    if any(r.fired and r.trigger is Trigger.COMPLIANCE_LEGAL for r in results):
        # a compliance matter goes to a certified human anyway; calling it "novel" would teach the
        # learning loop to treat legal requests as product problems
        results = [r for r in results if r.trigger is not Trigger.NOVEL]
    triggers = tuple(r.trigger for r in results if r.fired)
    if triggers:
        action = Action.ESCALATE
    elif any(r.near for r in results):
        action = Action.OFFER_HUMAN
    else:
        action = Action.CONTINUE
    reasons = tuple(reason for r in results if r.fired or r.near for reason in r.reasons)
    requirements = (
        None
        if action is Action.CONTINUE
        else requirements_for(ticket, triggers, reasons, config.requirements)
    )
    return Decision(
        ticket_id=ticket.id,
        should_escalate=action is Action.ESCALATE,
        action=action,
        triggers=triggers,
        reasons=reasons,
        scores={r.trigger.value: round(r.score, 4) for r in results},
        requirements=requirements,
    )
