"""The novelty model: markers of unexpected behaviour in every language, and the logistic score's shape.

The sentences here are written for these tests and appear nowhere in the corpus."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.config import build_config
from escalation.detectors.novelty import novelty_probability
from escalation.engine import EscalationEngine
from escalation.evaluate import load_known_issue_rows
from escalation.known_issues import Neighbour
from escalation.models import Ticket, Trigger
from escalation.text import shipped_lexicon

CONFIG = build_config()
ENGINE = EscalationEngine(CONFIG, load_known_issue_rows())


def opening(language: str, text: str) -> Ticket:
    messages = [{"role": "customer", "text": text, "ts": 1_700_000_000}]
    return Ticket.model_validate({"language": language, "messages": messages, "agent_confidence": 0.9})


@pytest.mark.parametrize(
    ("word", "concept"),
    [("although", "c_contrary"), ("obwohl", "c_contrary"), ("instead", "c_instead"), ("wrong", "c_wrong")],
)
def test_a_symptom_word_counts_even_when_it_is_a_stopword(word: str, concept: str) -> None:
    assert concept in shipped_lexicon().tokens(f"the parcel {word} arrived")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "My wishlist empties itself, although I never touch it, and suddenly holds other toys."),
        ("es", "De repente la lista de deseos se vacía y aparecen productos de otra persona."),
        ("de", "Plötzlich verschwinden meine Adressen aus dem Konto, obwohl ich nichts geändert habe."),
        ("fr", "Mes adresses disparaissent du compte tout à coup, alors que je n'ai rien changé."),
    ],
)
def test_unexpected_behaviour_is_novel_in_every_language(language: str, text: str) -> None:
    decision = ENGINE.decide(opening(language, text))
    assert Trigger.NOVEL in decision.triggers
    reason = next(r for r in decision.reasons if r.code == "novel")
    assert "known issue" in reason.text and "novelty" in reason.text


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "The reset email for my password never shows up, can you resend it?"),
        ("es", "Me cobraron dos veces el mismo pedido con la tarjeta."),
        ("de", "Wie kann ich mein Abo kündigen?"),
        ("fr", "Mon colis est en retard, il devait arriver vendredi."),
    ],
)
def test_a_known_problem_in_other_words_is_not_novel(language: str, text: str) -> None:
    assert Trigger.NOVEL not in ENGINE.decide(opening(language, text)).triggers


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "The password reset email arrives in Korean, and its link opens a stranger's profile."),
        ("es", "El reloj cuenta los pasos de otra persona desde que se sincroniza con la app."),
        ("de", "Die Bestätigungsmail kommt jetzt mit den Bestelldaten eines fremden Kunden an."),
        ("fr", "Le mail de réinitialisation arrive bien, mais le lien ouvre le compte de quelqu'un d'autre."),
    ],
)
def test_something_that_arrives_or_syncs_wrongly_is_not_explained_by_it_not_arriving(
    language: str, text: str
) -> None:
    # an issue about mail that does not arrive (or data that does not sync) does not explain mail that
    # arrives with a stranger's data: arriving and syncing name a failure only when negated
    assert Trigger.NOVEL in ENGINE.decide(opening(language, text)).triggers


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "The app shuts down by itself a second after I open it, every single time."),
        ("en", "Since Monday the app closes on its own right after the splash screen."),
        ("de", "Die App schließt sich nach dem Start sofort wieder."),
    ],
)
def test_an_app_that_closes_by_itself_is_the_known_crash_not_a_new_problem(language: str, text: str) -> None:
    # "by itself" marks behaviour nobody asked for, but an app closing by itself is how customers tell
    # the knowledge base's crash; the lexicon reads these phrases as the crash concept first
    assert Trigger.NOVEL not in ENGINE.decide(opening(language, text)).triggers


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "The tracking number you emailed shows the same status for five days now."),
        ("en", "The invoice for March lists my old company address."),
        ("es", "La caja llegó aplastada y el jarrón estaba en pedazos."),
        ("es", "La aplicación me saca de la sesión cada pocos minutos en la tableta."),
        ("de", "Der Gutschein aus dem Newsletter gibt mir an der Kasse null Rabatt."),
        ("de", "Die Synchronisierung zwischen Handy und Laptop dauert Stunden."),
        ("fr", "Le carton est arrivé écrasé et le vase à l'intérieur est en morceaux."),
        ("fr", "Les notifications arrivent des heures après l'envoi du message."),
    ],
)
def test_a_known_problem_told_as_a_plain_statement_is_not_novel(language: str, text: str) -> None:
    # customers often state a known problem without a failure word or a question; that a sentence
    # only tells what happened is no sign of a new problem (a detector that read it so fired on most)
    assert Trigger.NOVEL not in ENGINE.decide(opening(language, text)).triggers


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Every time I try to log in it says my password is wrong."),
        ("en", "Every time I apply the discount code it says invalid."),
        ("es", "Cada vez que intento entrar me dice que la contraseña es incorrecta."),
        ("de", "Jedes Mal, wenn ich mich anmelden will, heißt es, mein Passwort sei falsch."),
        ("fr", "Chaque fois que je me connecte, on me dit que le mot de passe est incorrect."),
        ("fr", "Chaque fois que je passe commande, le code promo est refusé."),
        ("es", "Me enviaron una talla M en vez de la L que pedí."),
        ("de", "Ich habe eine Größe M statt der bestellten L bekommen."),
        ("fr", "J'ai reçu une taille M au lieu de la L commandée."),
    ],
)
def test_a_known_failure_told_with_an_incidental_marker_is_not_novel(language: str, text: str) -> None:
    # "every time" marks behaviour nobody asked for, but a ticket that names a failure the knowledge base
    # knows (wrong, invalid, declined, not working) is reporting that failure, however often it happens
    assert Trigger.NOVEL not in ENGINE.decide(opening(language, text)).triggers


@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(0, 1),
    high=st.floats(0, 1),
    marker=st.booleans(),
    concepts=st.integers(0, 20),
)
def test_novelty_falls_with_similarity_and_rises_with_an_unexplained_marker(
    low: float, high: float, marker: bool, concepts: int
) -> None:
    low, high = sorted((low, high))

    def p(similarity: float, unexplained: bool) -> float:
        neighbour = Neighbour("kb", "text", similarity, unexplained, concepts)
        return novelty_probability(neighbour, CONFIG.novelty)

    assert p(high, marker) <= p(low, marker)
    assert p(low, False) < p(low, True)
    assert 0.0 <= p(low, marker) <= 1.0
