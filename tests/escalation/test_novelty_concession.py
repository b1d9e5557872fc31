"""A concession after a negated main clause is the ordinary report of a known failure ("it does not turn
on although I charged it"), so it marks nothing unexpected; a concession after something that did happen
("the balance drops although I bought nothing") still does, in every language and either clause order.

The sentences here are written for these tests and appear nowhere in the corpus."""

import pytest

from escalation.text import shipped_lexicon

LEXICON = shipped_lexicon()


@pytest.mark.parametrize(
    "text",
    [
        "The printer does not connect even though the wifi works for everything else.",
        "Although I restarted the router twice, the camera won't pair.",
        "La impresora no se conecta aunque el wifi funciona con todo lo demás.",
        "Der Drucker verbindet sich nicht, obwohl das WLAN sonst überall geht.",
        "L'imprimante ne se connecte pas alors que le wifi marche pour tout le reste.",
    ],
)
def test_concession_after_a_negated_failure_marks_nothing(text: str) -> None:
    assert "c_contrary" not in LEXICON.tokens(text)


@pytest.mark.parametrize(
    "text",
    [
        "The printer prints every page twice even though I pick one copy.",
        "Although I picked one copy, the printer prints every page twice.",
        "La impresora imprime cada página dos veces aunque elijo una copia.",
        "Der Drucker druckt jede Seite doppelt, obwohl ich eine Kopie wähle.",
        "L'imprimante imprime chaque page deux fois alors que je choisis une copie.",
    ],
)
def test_concession_after_something_that_happened_still_marks_it(text: str) -> None:
    assert "c_contrary" in LEXICON.tokens(text)


@pytest.mark.parametrize(
    "text",
    [
        "Der Zählerstand sinkt jede Nacht um zehn Punkte, obwohl niemand zu Hause ist.",
        "Die Kamera erkennt mich jedes Mal als Fremden, obwohl sie mein Gesicht kennt.",
    ],
)
def test_a_german_verb_ending_like_a_contraction_is_no_negation(text: str) -> None:
    # "sinkt", "kennt" end in n?t like "didn't"; only an apostrophe makes an English contraction
    assert "c_contrary" in LEXICON.tokens(text)


@pytest.mark.parametrize("apostrophe", ["'", "\u2019"])
def test_an_english_contraction_still_negates_the_main_clause(apostrophe: str) -> None:
    assert "c_contrary" not in LEXICON.tokens(
        f"The speaker didn{apostrophe}t charge although it was plugged in."
    )
