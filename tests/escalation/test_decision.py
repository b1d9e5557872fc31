"""The decision engine: detectors, policy, requirements, monotonicity."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.config import build_config
from escalation.engine import EscalationEngine
from escalation.evaluate import load_known_issue_rows
from escalation.models import Action, Ticket, Trigger

ENGINE = EscalationEngine(build_config(), load_known_issue_rows())


def ticket(*texts: str, confidence: float = 0.9, refund: float | None = None, language: str = "en") -> Ticket:
    messages = [{"role": "customer", "text": t, "ts": 1_700_000_000 + i} for i, t in enumerate(texts)]
    return Ticket.model_validate(
        {"language": language, "messages": messages, "agent_confidence": confidence, "refund_amount": refund}
    )


def test_routine_password_reset_continues() -> None:
    assert ENGINE.decide(ticket("How do I reset my password? I forgot it.")).action is Action.CONTINUE


def test_gdpr_request_escalates_with_privacy_certification() -> None:
    decision = ENGINE.decide(ticket("Please delete all my personal data you hold, under the GDPR."))
    assert decision.triggers == (Trigger.COMPLIANCE_LEGAL,)
    assert decision.requirements is not None
    assert "privacy_compliance" in decision.requirements.certification_names


def test_refund_over_limit_escalates_and_under_limit_does_not() -> None:
    assert (
        Trigger.COMPLIANCE_LEGAL
        in ENGINE.decide(ticket("I want a refund for the order.", refund=900)).triggers
    )
    assert (
        Trigger.COMPLIANCE_LEGAL
        not in ENGINE.decide(ticket("I want a refund for the order.", refund=90)).triggers
    )


def test_low_confidence_escalates() -> None:
    assert ENGINE.decide(ticket("How do I reset my password?", confidence=0.4)).triggers == (
        Trigger.LOW_CONFIDENCE,
    )


def test_product_name_in_capitals_is_not_shouting() -> None:
    assert (
        Trigger.FRUSTRATION
        not in ENGINE.decide(ticket("My ZENBOOK PRO does not charge the battery.")).triggers
    )


def test_shouting_and_threat_is_frustration() -> None:
    decision = ENGINE.decide(
        ticket(
            "Where is my order?", "THIS IS RIDICULOUS!!! Fix it today or I cancel and switch to a competitor."
        )
    )
    assert Trigger.FRUSTRATION in decision.triggers


def test_language_sets_requirement_bit() -> None:
    decision = ENGINE.decide(ticket("Je veux porter plainte et mon avocat vous contactera.", language="fr"))
    assert decision.requirements is not None and decision.requirements.language_bit == 2


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValueError, match="not in the protocol table"):
        ticket("hello", language="xx")


LEGAL = st.sampled_from(
    [
        "My lawyer will sue you.",
        "I will file a complaint with the regulator.",
        "Under the GDPR delete my data you hold.",
    ]
)


@settings(deadline=None, max_examples=60)
@given(text=st.text(min_size=1, max_size=80).filter(str.strip), legal=LEGAL, confidence=st.floats(0, 1))
def test_adding_a_legal_trigger_always_escalates(text: str, legal: str, confidence: float) -> None:
    before = ENGINE.decide(ticket(text, confidence=confidence))
    after = ENGINE.decide(ticket(text, legal, confidence=confidence))
    assert after.should_escalate
    assert before.should_escalate <= after.should_escalate
