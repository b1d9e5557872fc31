"""Compliance said without its keywords, novelty across languages, and the one-scan alternation.

The sentences here are written for these tests and appear nowhere in the corpus."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.config import build_config
from escalation.engine import EscalationEngine
from escalation.evaluate import load_known_issue_rows
from escalation.models import Ticket, Trigger
from escalation.text import one_scan

CONFIG = build_config()
ENGINE = EscalationEngine(CONFIG, load_known_issue_rows())


def opening(language: str, text: str) -> Ticket:
    messages = [{"role": "customer", "text": text, "ts": 1_700_000_000}]
    return Ticket.model_validate({"language": language, "messages": messages, "agent_confidence": 0.9})


def codes(ticket: Ticket) -> set[str]:
    return {reason.code for reason in ENGINE.decide(ticket).reasons}


@pytest.mark.parametrize(
    ("language", "text", "code"),
    [
        ("en", "Pursuant to Article 20, send my records to my new bank.", "compliance.data_request"),
        ("es", "Conforme al artículo 17, quiero que eliminen mi ficha.", "compliance.data_request"),
        ("de", "Gemäß Artikel 15 möchte ich wissen, was Sie gespeichert haben.", "compliance.data_request"),
        ("fr", "Au titre de l'article 21, je m'oppose à ce traitement.", "compliance.data_request"),
        ("en", "Which partners have you sold my address to?", "compliance.data_request"),
        ("fr", "Je retire mon consentement pour les newsletters ciblées.", "compliance.data_request"),
        ("en", "I have written to Ofcom about your billing.", "compliance.litigation"),
        ("es", "He puesto una reclamación ante Profeco.", "compliance.litigation"),
        ("de", "Ich habe mich an die Schlichtungsstelle Energie gewandt.", "compliance.litigation"),
        ("fr", "J'ai saisi le Défenseur des droits.", "compliance.litigation"),
        ("en", "I filed a complaint with the Consumer Financial Protection Bureau.", "compliance.litigation"),
        ("en", "I will be filing a complaint with the Federal Trade Commission.", "compliance.litigation"),
        ("fr", "Mon cousin, qui est avocat, va vous poursuivre en justice.", "compliance.litigation"),
        ("en", "The installer hit on me and kept calling me afterwards.", "compliance.discrimination"),
        ("es", "El repartidor se burló de mi silla de ruedas.", "compliance.discrimination"),
        ("de", "Wegen meines Kopftuchs wurde mir der Zutritt verweigert.", "compliance.discrimination"),
        ("fr", "On a refusé de me servir parce que je suis enceinte.", "compliance.discrimination"),
    ],
)
def test_compliance_said_without_its_usual_words(language: str, text: str, code: str) -> None:
    ticket = opening(language, text)
    assert Trigger.COMPLIANCE_LEGAL in ENGINE.decide(ticket).triggers
    assert code in codes(ticket)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I use a wheelchair, so please leave the parcel with the concierge."),
        ("es", "Estoy embarazada y prefiero la entrega por la mañana, ¿se puede cambiar la dirección?"),
        ("de", "Ich trage ein Kopftuch auf dem Profilbild, wie ändere ich das Foto im Konto?"),
        ("fr", "Quel article du catalogue est en promotion cette semaine ?"),
        ("en", "My friend, who is a lawyer, recommended your app to me. How do I sign up?"),
        ("es", "Mi hermana, que es abogada, me recomendó su tienda."),
        ("de", "Meine Schwester, die Anwältin ist, hat mir euren Shop empfohlen."),
        ("fr", "Mon cousin, qui est avocat, m'a conseillé votre appli."),
        ("en", "Gardening is my avocation; where do I find the invoice for the seeds?"),
    ],
)
def test_a_protected_attribute_or_an_article_alone_is_not_compliance(language: str, text: str) -> None:
    assert Trigger.COMPLIANCE_LEGAL not in ENGINE.decide(opening(language, text)).triggers


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "Pensé que ya lo tenía, pero el enlace para restablecer la contraseña no me llega."),
        (
            "de",
            "Ich dachte eigentlich, es klappt, aber der Link zum Zurücksetzen des Passworts kommt nicht an.",
        ),
        ("fr", "Je pensais que c'était bon, mais le lien pour réinitialiser le mot de passe n'arrive pas."),
    ],
)
def test_a_known_issue_in_another_language_with_plain_grammar_is_not_novel(language: str, text: str) -> None:
    decision = ENGINE.decide(opening(language, text))
    assert Trigger.NOVEL not in decision.triggers
    neighbour = ENGINE.known_issues.nearest(text)
    assert neighbour is not None and neighbour.issue_id in {"kb-001", "kb-002"}


@pytest.mark.parametrize(
    ("language", "known", "novel"),
    [
        ("en", "How do I export my projects to CSV?", "My CSV export lists another company's projects."),
        ("es", "Quiero cambiar el idioma de la cuenta.", "Cambié el idioma y también me cambió el plan."),
        ("de", "Wie füge ich ein Teammitglied hinzu?", "Ein neues Teammitglied sieht meine Zahlungsdaten."),
    ],
)
def test_an_unexpected_marker_separates_a_new_problem_from_its_known_look_alike(
    language: str, known: str, novel: str
) -> None:
    assert Trigger.NOVEL not in ENGINE.decide(opening(language, known)).triggers
    assert Trigger.NOVEL in ENGINE.decide(opening(language, novel)).triggers


@pytest.mark.parametrize(
    ("language", "known", "novel"),
    [
        (
            "en",
            "How do I remove a saved card?",
            "My saved cards list a Mastercard ending 4410 that is not mine.",
        ),
        ("es", "¿Cómo veo mis pedidos?", "En mis pedidos aparecen dos compras que no son mías."),
        (
            "de",
            "Wie storniere ich eine Bestellung?",
            "In meinem Konto steht eine Bestellung, die nicht von mir ist.",
        ),
        ("fr", "Comment voir mes commandes ?", "Dans mes commandes il y a un achat qui n'est pas à moi."),
    ],
)
def test_something_in_the_account_that_is_not_mine_is_another_party(
    language: str, known: str, novel: str
) -> None:
    """Found by the independently written conversations: "not mine" is another party's data, unasked."""
    assert Trigger.NOVEL not in ENGINE.decide(opening(language, known)).triggers
    assert Trigger.NOVEL in ENGINE.decide(opening(language, novel)).triggers


GROUPS = {**CONFIG.frustration.patterns, **CONFIG.compliance.patterns}
WORDS = [
    "not",
    "manager",
    "speak",
    "to",
    "your",
    "gdpr",
    "lawyer",
    "de",
    "la",
    "y",
    "!",
    "?",
    ":)",
    "haha",
    "art.",
    "15",
    "wutend",
    "furieux",
    "because",
    "of",
    "you",
    "lost",
    "my",
    "consent",
    "ico",
    "\n",
]


@given(st.sampled_from(sorted(GROUPS)), st.lists(st.sampled_from(WORDS), max_size=12))
@settings(deadline=None, max_examples=300)
def test_one_scan_finds_a_match_exactly_when_some_pattern_does(group: str, words: list[str]) -> None:
    text = " ".join(words)
    patterns = [p for p in GROUPS[group] if "(?P<" not in p]
    combined = one_scan(patterns)
    assert bool(combined.search(text)) == any(re.search(p, text) for p in patterns)
