"""Detectors on their own: charged language by category, benign legal words, unexplained behaviour."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.config import build_config
from escalation.engine import EscalationEngine
from escalation.evaluate import load_known_issue_rows
from escalation.models import Ticket, Trigger

ENGINE = EscalationEngine(build_config(), load_known_issue_rows())
ROUTINE = {
    "en": "Where is my package? The tracking page has not changed.",
    "es": "¿Dónde está mi paquete? El seguimiento no cambia.",
    "de": "Wo ist mein Paket? Die Sendungsverfolgung ändert sich nicht.",
    "fr": "Où est mon colis ? Le suivi ne bouge pas.",
}


def conversation(language: str, *texts: str) -> Ticket:
    messages = [
        {"role": "agent" if i % 2 else "customer", "text": t, "ts": 1_700_000_000 + 60 * i}
        for i, t in enumerate(texts)
    ]
    return Ticket.model_validate({"language": language, "messages": messages, "agent_confidence": 0.9})


@pytest.mark.parametrize(
    ("language", "reply", "category"),
    [
        ("en", "Honestly, this is a rip-off and you know it.", "accusation"),
        ("es", "Ustedes son unos incompetentes, de verdad.", "insult"),
        ("de", "Das ist wirklich eine Zumutung für Stammkunden.", "outrage"),
        ("fr", "J'en ai ras le bol de vos réponses automatiques.", "exasperation"),
    ],
)
def test_one_strong_charged_category_fires_frustration(language: str, reply: str, category: str) -> None:
    decision = ENGINE.decide(conversation(language, ROUTINE[language], "Let me check.", reply))
    assert Trigger.FRUSTRATION in decision.triggers
    assert f"frustration.{category}" in {r.code for r in decision.reasons}


def test_calm_message_with_a_charged_word_does_not_fire() -> None:
    text = "The new icon looks ridiculous, haha. Anyway, how do I change the language to French?"
    assert Trigger.FRUSTRATION not in ENGINE.decide(conversation("en", text)).triggers


def test_weak_charged_word_alone_does_not_fire() -> None:
    text = "The worst part is over, my parcel arrived. Where do I see my loyalty points?"
    assert Trigger.FRUSTRATION not in ENGINE.decide(conversation("en", text)).triggers


@given(st.lists(st.text(max_size=200), min_size=1, max_size=4))
@settings(deadline=None, max_examples=60)
def test_frustration_score_is_bounded_and_fires_at_threshold(texts: list[str]) -> None:
    texts = [t if t.strip() else "hello" for t in texts]
    ticket = Ticket.model_validate(
        {
            "language": "en",
            "messages": [{"role": "customer", "text": t, "ts": i} for i, t in enumerate(texts)],
            "agent_confidence": 0.9,
        }
    )
    decision = ENGINE.decide(ticket)
    score = decision.scores["frustration"]
    assert 0.0 <= score <= 1.0
    threshold = ENGINE.config.frustration.threshold
    assert (Trigger.FRUSTRATION in decision.triggers) == (score >= threshold - 1e-4)


@pytest.mark.parametrize(
    "text",
    [
        "I'm a lawyer and I'd like to move my plan to yearly billing.",
        "Soy abogada y quiero cambiar la dirección de entrega.",
        "Ich bin Anwältin und brauche eine Rechnung für März.",
        "Notre avocat a besoin des factures de janvier, merci.",
    ],
)
def test_legal_word_in_a_benign_sense_is_not_compliance(text: str) -> None:
    assert Trigger.COMPLIANCE_LEGAL not in ENGINE.decide(conversation("en", text)).triggers


def test_legal_threat_after_a_benign_sense_is_still_compliance() -> None:
    text = "I'm a lawyer myself, and my lawyer colleague will take you to court."
    assert Trigger.COMPLIANCE_LEGAL in ENGINE.decide(conversation("en", text)).triggers


@pytest.mark.parametrize(
    "text",
    [
        "The invoice page shows another customer's invoices with their company address.",
        "My loyalty points page shows somebody else's points and order history.",
        "La página de facturas muestra las facturas de otro cliente.",
    ],
)
def test_unexplained_behaviour_is_novel_despite_shared_words(text: str) -> None:
    assert Trigger.NOVEL in ENGINE.decide(conversation("en", text)).triggers


@pytest.mark.parametrize(
    "text",
    [
        "The app crashes every time I open it on my tablet.",
        "You sent me the wrong item: a red scarf instead of the blue one.",
        "Hola, ¿cómo descargo una factura con mi número de IVA?",
    ],
)
def test_behaviour_a_known_issue_names_stays_known(text: str) -> None:
    assert Trigger.NOVEL not in ENGINE.decide(conversation("en", text)).triggers
