"""General constructions added for issue 15's generality round: patience at an end, "I told you
already", emotion words, broken promises, an audience told to stay away; a word of anger inside a
name in capitals; a repeat purchase is not a chase; a data request as "my data" + what is done with
it; discrimination said to the customer ("people like you").

The sentences here are written for these tests and appear nowhere in the corpus."""

import unicodedata

import pytest

from escalation.config import build_config
from escalation.engine import EscalationEngine
from escalation.evaluate import load_known_issue_rows
from escalation.models import Ticket, Trigger
from escalation.text import fold

ENGINE = EscalationEngine(build_config(), load_known_issue_rows())
OPENING = {
    "en": "The tracking page has not changed since Tuesday.",
    "es": "El seguimiento no ha cambiado desde el martes.",
    "de": "Die Sendungsverfolgung hat sich seit Dienstag nicht geändert.",
    "fr": "Le suivi n'a pas bougé depuis mardi.",
}


def triggers(language: str, text: str, opening: bool = True) -> tuple[Trigger, ...]:
    """The triggers for `text` alone, or as the customer's reply after a routine opening."""
    turns = [("customer", OPENING[language]), ("agent", "Let me check."), ("customer", text)]
    messages = [
        {"role": role, "text": words, "ts": 1_700_000_000 + 60 * i}
        for i, (role, words) in enumerate(turns if opening else turns[2:])
    ]
    ticket = Ticket.model_validate({"language": language, "messages": messages, "agent_confidence": 0.9})
    return ENGINE.decide(ticket).triggers


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I have been calm for weeks, but my patience is wearing thin."),
        ("es", "Tuve paciencia, pero la paciencia se me ha agotado."),
        ("de", "Meine Geduld ist jetzt wirklich erschöpft."),
        ("fr", "Ma patience est épuisée, franchement."),
        ("en", "I already explained the problem in my first message, read it."),
        ("es", "Ya se lo he explicado dos veces por teléfono."),
        ("de", "Das habe ich Ihnen doch schon erklärt."),
        ("fr", "Je vous ai déjà expliqué tout ça hier."),
        ("en", "This whole thing is so frustrating, nobody seems to own it."),
        ("de", "Die Sache ist unglaublich frustrierend."),
        ("en", "You promised me a replacement last week and nothing arrived."),
        ("fr", "Vous aviez promis un remboursement, toujours rien sur mon compte."),
        ("es", "Pienso avisar a todos mis compañeros de trabajo de lo que pasa con ustedes."),
        ("de", "Ich werde meinen Kollegen davon abraten, bei Ihnen zu bestellen."),
    ],
)
def test_frustration_constructions_fire(language: str, text: str) -> None:
    assert Trigger.FRUSTRATION in triggers(language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Our team is called FURIOUS FIVE FITNESS, can I add a second trainer to the account?"),
        ("fr", "Notre groupe s'appelle RAGE SONORE et nous voulons passer au plan Pro."),
        ("en", "It is the fourth time I buy this kettle, great product. Is there a loyalty discount?"),
        ("es", "Es la segunda vez que compro este abrigo, ¿tienen la talla M en gris?"),
        ("en", "I'm not angry at all, I only want to know when my trial ends."),
    ],
)
def test_names_purchases_and_negation_stay_calm(language: str, text: str) -> None:
    assert Trigger.FRUSTRATION not in triggers(language, text, opening=False)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Which companies did you share my personal details with last year?"),
        ("es", "¿Cuánto tiempo van a conservar mis datos después de cerrar la cuenta?"),
        ("de", "Bitte löschen Sie meine persönlichen Daten vollständig."),
        ("fr", "Combien de temps gardez-vous mes données après la résiliation ?"),
        ("en", "Stop profiling me for adverts."),
        ("es", "El guardia no me dejó entrar y dijo que no quería gente como usted en la tienda."),
        ("en", "The installer refused to finish the job and said people like you never pay."),
        ("en", "I have asked a consumer association to take up my case."),
    ],
)
def test_compliance_constructions_fire(language: str, text: str) -> None:
    assert Trigger.COMPLIANCE_LEGAL in triggers(language, text, opening=False)


@pytest.mark.parametrize(
    "text",
    [
        "My data does not sync between my phone and my laptop.",
        "How do I export my projects to a CSV file?",
        "Can I change my personal details, I have a new surname?",
    ],
)
def test_routine_data_questions_are_not_requests(text: str) -> None:
    assert Trigger.COMPLIANCE_LEGAL not in triggers("en", text, opening=False)


def test_fold_fast_path_equals_full_decomposition() -> None:
    sample = "Ça déjà ÉTÉ naïve Straße ẞ Ñandú Łódź Øre œuvre Ærø €5 — привет й 日本 ǅ ǈ"
    for ch in sample:
        slow = unicodedata.normalize("NFKD", ch.replace("ß", "ss").replace("ẞ", "ss"))
        slow = "".join(c for c in slow if not unicodedata.combining(c)).lower()
        assert fold(ch) == slow.strip() or (ch.isspace() and fold(ch) == " "), ch
