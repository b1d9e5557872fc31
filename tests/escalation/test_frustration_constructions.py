"""Frustration by construction, in four languages: sarcasm, manager requests, disappointment, blamed
losses, stated contacts; negation and questions; invariance to spacing, accents and case.

The sentences here are written for these tests and appear nowhere in the corpus."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.config import build_config
from escalation.engine import EscalationEngine
from escalation.evaluate import load_corpus, load_known_issue_rows
from escalation.models import Ticket, Trigger

ENGINE = EscalationEngine(build_config(), load_known_issue_rows())
OPENING = {
    "en": "My order is late, it was supposed to arrive on Friday.",
    "es": "Mi pedido llega tarde, tenía que llegar el viernes.",
    "de": "Meine Bestellung ist verspätet, sie sollte am Freitag kommen.",
    "fr": "Ma commande est en retard, elle devait arriver vendredi.",
}


def reply(language: str, text: str) -> Ticket:
    messages = [
        {"role": "customer", "text": OPENING[language], "ts": 1_700_000_000},
        {"role": "agent", "text": "Let me check.", "ts": 1_700_000_060},
        {"role": "customer", "text": text, "ts": 1_700_000_120},
    ]
    return Ticket.model_validate({"language": language, "messages": messages, "agent_confidence": 0.9})


def codes(ticket: Ticket) -> set[str]:
    return {reason.code for reason in ENGINE.decide(ticket).reasons}


@pytest.mark.parametrize(
    ("language", "text", "code"),
    [
        ("en", "Oh great, yet another canned answer. Really helpful.", "sarcasm"),
        ("es", "Enhorabuena, diez días para decirme que no saben dónde está.", "sarcasm"),
        ("de", "Na toll, schon wieder eine Antwort ohne jeden Inhalt nach drei Wochen.", "sarcasm"),
        ("fr", "Félicitations, deux semaines pour me dire que vous ne pouvez pas le retrouver.", "sarcasm"),
        ("en", "Put me through to your supervisor, please.", "escalation_request"),
        ("es", "Páseme con el responsable de su departamento.", "escalation_request"),
        ("de", "Ich will mit Ihrem Teamleiter sprechen.", "escalation_request"),
        ("fr", "Passez-moi votre supérieur, s'il vous plaît.", "escalation_request"),
        ("en", "I'm bitterly disappointed, I expected much better.", "disappointment"),
        ("es", "Estoy muy decepcionada con el trato.", "disappointment"),
        ("de", "Ich bin zutiefst enttäuscht von Ihrem Service.", "disappointment"),
        ("fr", "Je suis vraiment déçu, je n'attendais pas ça de vous.", "disappointment"),
        ("en", "Because of your mistake I missed my flight.", "consequence"),
        ("es", "Por su culpa perdí la reserva del hotel.", "consequence"),
        ("de", "Wegen Ihrer Verzögerung habe ich den Termin verpasst.", "consequence"),
        ("fr", "À cause de vous, j'ai perdu une journée de travail.", "consequence"),
    ],
)
def test_constructions_fire_frustration_in_every_language(language: str, text: str, code: str) -> None:
    ticket = reply(language, text)
    assert Trigger.FRUSTRATION in ENGINE.decide(ticket).triggers
    assert f"frustration.{code}" in codes(ticket)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Could I speak to a manager about moving our team to the yearly plan?"),
        ("es", "¿Podría hablar con el responsable de cuentas de empresa sobre el plan anual?"),
        ("de", "Könnte ich mit Ihrem Teamleiter über einen Firmentarif sprechen?"),
        ("fr", "Je voudrais parler à un responsable pour l'offre entreprise, merci."),
    ],
)
def test_a_courteous_request_for_a_manager_is_not_frustration(language: str, text: str) -> None:
    assert Trigger.FRUSTRATION not in ENGINE.decide(reply(language, text)).triggers


@pytest.mark.parametrize(
    ("language", "stated", "unstated"),
    [
        ("en", "This is the fifth time I write about this.", "I have ordered five times from you."),
        ("es", "Ya van cuatro llamadas y nadie lo arregla.", "Compré cuatro camisetas iguales."),
        ("de", "Ich schreibe jetzt zum vierten Mal.", "Ich habe vier Pakete bestellt."),
        ("fr", "C'est la quatrième fois que je vous écris.", "J'ai commandé quatre paires."),
    ],
)
def test_contacts_the_customer_states_count_as_follow_ups(language: str, stated: str, unstated: str) -> None:
    assert "frustration.follow_ups" in codes(reply(language, stated))
    assert "frustration.follow_ups" not in codes(reply(language, unstated))


NEGATED = {
    "en": ("I am furious about this.", "I am not furious about this."),
    "es": ("Estoy harta de esperar.", "No estoy harta, solo pregunto."),
    "de": ("Ich bin wütend.", "Ich bin nicht wütend, nur neugierig."),
    "fr": ("Je suis furieux.", "Je ne suis pas furieux, juste curieux."),
}


@pytest.mark.parametrize("language", sorted(NEGATED))
def test_a_negation_before_a_charged_word_cancels_it(language: str) -> None:
    plain, negated = NEGATED[language]
    assert "frustration.exasperation" in codes(reply(language, plain))
    assert "frustration.exasperation" not in codes(reply(language, negated))


@given(st.sampled_from(["not", "never", "no longer"]), st.sampled_from(["furious", "fed up", "livid"]))
@settings(deadline=None, max_examples=20)
def test_negated_exasperation_never_fires_whatever_the_words(negation: str, word: str) -> None:
    text = f"To be clear, I am {negation} {word} with you."
    assert "frustration.exasperation" not in codes(reply("en", text))
    assert "frustration.exasperation" in codes(reply("en", f"To be clear, I am {word} with you."))


def test_an_accusation_asked_as_a_question_is_not_an_accusation() -> None:
    asked = "Someone sent me a text about a prize from you. Is that a scam?"
    said = "Someone sent me a text about a prize from you. That is a scam."
    assert "frustration.accusation" not in codes(reply("en", asked))
    assert "frustration.accusation" in codes(reply("en", said))


DEV = [row.ticket for row in load_corpus() if row.split == "dev" and row.ticket.language != "en"]


def _respaced(ticket: Ticket, change) -> Ticket:  # type: ignore[no-untyped-def]
    messages = tuple(m.model_copy(update={"text": change(m.text)}) for m in ticket.messages)
    return ticket.model_copy(update={"messages": messages})


@given(st.sampled_from(DEV), st.sampled_from(["  ", "\t", "\u00a0", " \u202f"]))
@settings(deadline=None, max_examples=80)
def test_decisions_ignore_how_words_are_spaced(ticket: Ticket, space: str) -> None:
    spaced = _respaced(ticket, lambda text: text.replace(" ", space))
    assert ENGINE.decide(spaced).triggers == ENGINE.decide(ticket).triggers


@given(st.sampled_from(DEV))
@settings(deadline=None, max_examples=80)
def test_decisions_ignore_accents_and_the_case_of_words_not_shouted(ticket: Ticket) -> None:
    import unicodedata

    def plain(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        return " ".join(w if w.isupper() and len(w) >= 3 else w.lower() for w in bare.split(" "))

    assert ENGINE.decide(_respaced(ticket, plain)).triggers == ENGINE.decide(ticket).triggers
