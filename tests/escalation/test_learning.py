"""The learning loop: a resolved new problem stops being novel; training data is redacted."""

from escalation.config import build_config
from escalation.engine import EscalationEngine
from escalation.evaluate import load_known_issue_rows
from escalation.learning import AutonomyTracker, Resolution, training_record
from escalation.models import Ticket, Trigger

NEW = [
    "Since the last firmware update my watch battery drains overnight, even in airplane mode.",
    "After the firmware update the battery of my watch drains overnight, airplane mode does not help.",
    "My watch battery drains overnight after the firmware update, airplane mode or not.",
]


def ticket(text: str) -> Ticket:
    return Ticket.model_validate(
        {"language": "en", "messages": [{"role": "customer", "text": text, "ts": 1}], "agent_confidence": 0.9}
    )


def test_new_problem_is_known_after_promote_after_resolutions() -> None:
    engine = EscalationEngine(build_config(), load_known_issue_rows())
    assert Trigger.NOVEL in engine.decide(ticket(NEW[0])).triggers
    promoted = [
        engine.learn(
            Resolution(
                ticket=ticket(t),
                triggers=(Trigger.NOVEL,),
                summary="Firmware 5.2 bug: roll back.",
                verdict="approved",
                resolved_at=2,
            )
        )
        for t in NEW
    ]
    assert promoted == [False, False, True]
    assert Trigger.NOVEL not in engine.decide(ticket(NEW[0])).triggers


def test_training_record_is_redacted() -> None:
    resolution = Resolution(
        ticket=ticket("Mail me at a@b.com"),
        triggers=(Trigger.NOVEL,),
        summary="Called +1 415 555 0132",
        verdict="approved",
        resolved_at=5,
    )
    record = training_record(resolution)
    assert record["conversation"][0]["text"] == "Mail me at [EMAIL]"
    assert record["resolution"] == "Called [PHONE]"
    assert record["redactions"] == {"email": 1, "phone": 1}


def test_autonomy_per_day_and_week() -> None:
    tracker = AutonomyTracker()
    for ts, escalated in ((0, True), (10, False), (86_400, False)):
        tracker.record(ts, escalated)
    assert [d["autonomous_rate"] for d in tracker.per_day()] == [0.5, 1.0]
    assert tracker.per_week()[0]["tickets"] == 3


def test_problem_learned_in_english_is_known_in_spanish() -> None:
    engine = EscalationEngine(build_config(), load_known_issue_rows())
    english = [
        "The invoice page shows another customer's invoices with their company address.",
        "On the invoice page I can see invoices of another customer.",
        "My invoice page lists invoices that belong to another customer.",
    ]
    spanish = ticket("La página de facturas muestra las facturas de otro cliente.")
    assert Trigger.NOVEL in engine.decide(spanish).triggers
    for text in english:
        engine.learn(
            Resolution(
                ticket=ticket(text),
                triggers=(Trigger.NOVEL,),
                summary="Cache key bug on the invoice page; fixed in release 4.1.",
                verdict="approved",
                resolved_at=2,
            )
        )
    assert engine.learning.promoted == 1
    assert Trigger.NOVEL not in engine.decide(spanish).triggers
