"""The concept lexicon: the fast phrase scan agrees with a plain regex, folding, anomaly and outcome sets."""

import json
import re
import unicodedata
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.text import _contracted, fold, shipped_lexicon

RAW = json.loads(resources.files("escalation").joinpath("data/lexicon.json").read_text("utf-8"))
FORMS = [
    (form, f"c_{concept}")
    for table in (RAW["concepts"], RAW["anomalies"])
    for concept, forms in table.items()
    for form in forms.split("|")
    if re.search(r"[^a-z0-9*]", form)
]
WORDS = sorted(
    {w for form, _ in FORMS for w in re.findall(r"[a-z0-9]+", form)}
    | {"the", "my", "xyz", "app", "du", "del"}
)


def reference_phrases(folded: str) -> str:
    """What the lexicon did before the first-word index: one alternation, longest form first."""
    ordered = sorted(FORMS, key=lambda item: len(item[0]), reverse=True)
    alternatives = "|".join(
        f"(?P<p{i}>{_contracted(f).replace('*', r'[a-z0-9]*')})" for i, (f, _) in enumerate(ordered)
    )
    pattern = re.compile(rf"\b(?:{alternatives})\b")
    return pattern.sub(lambda m: f" {ordered[int((m.lastgroup or 'p0')[1:])][1]} ", folded)


def old_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ẞ", "ss"))
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^\S\n]+", " ", folded)


@given(st.lists(st.sampled_from(WORDS), max_size=14), st.sampled_from([" ", " ", "-", "'", ", "]))
@settings(deadline=None, max_examples=300)
def test_first_word_scan_matches_the_alternation(words: list[str], glue: str) -> None:
    text = glue.join(words)
    lexicon = shipped_lexicon()
    assert lexicon._phrases(text).split() == reference_phrases(text).split()


@given(st.text(max_size=80))
@settings(deadline=None, max_examples=300)
def test_fold_fast_path_agrees_with_unicode_folding(text: str) -> None:
    assert fold(text) == old_fold(text)


def test_same_problem_in_four_languages_shares_its_concepts() -> None:
    lexicon = shipped_lexicon()
    texts = [
        "The speaker switches on by itself in the middle of the night.",
        "El altavoz se enciende por sí solo en plena noche.",
        "Der Lautsprecher schaltet sich mitten in der Nacht von selbst ein.",
        "L'enceinte s'allume toute seule en pleine nuit.",
    ]
    concepts = [{t for t in lexicon.tokens(text) if t.startswith("c_")} for text in texts]
    assert all({"c_speaker", "c_by_itself"} <= found for found in concepts)


def test_anomalies_and_outcomes_are_concepts_of_the_lexicon() -> None:
    lexicon = shipped_lexicon()
    assert lexicon.anomalies and lexicon.outcomes
    assert {f"c_{name}" for name in RAW["outcomes"]} == lexicon.outcomes
    assert {f"c_{name}" for name in RAW["negated_outcomes"]} == lexicon.negated_outcomes
    assert all(name in RAW["concepts"] for name in (*RAW["outcomes"], *RAW["negated_outcomes"]))
    for rule in RAW["implied_outcomes"]:
        assert rule["marker"] in RAW["anomalies"] and rule["outcome"] in RAW["outcomes"]
        assert all(name in RAW["concepts"] for name in rule["with"])


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("They sent a size M instead of the L I ordered.", True),
        ("Me enviaron la chaqueta azul en vez de la negra.", True),
        ("The total goes up instead of down.", False),
        ("The link logs me into my sister's account instead of mine.", False),
    ],
)
def test_instead_said_of_an_item_a_size_or_a_colour_names_the_wrong_item(text: str, wrong: bool) -> None:
    lexicon = shipped_lexicon()
    tokens = lexicon.tokens(text)
    assert "c_instead" in tokens
    assert ("c_wrong" in lexicon.failures(text, tokens)) is wrong


@pytest.mark.parametrize(
    ("text", "failed"),
    [
        ("The order confirmation arrives in Korean.", False),
        ("The order confirmation never arrives.", True),
        ("La confirmación del pedido llega en coreano.", False),
        ("La confirmación del pedido no llega.", True),
        ("Die Bestellbestätigung kommt auf Koreanisch.", False),
        ("Die Bestellbestätigung kommt nicht an.", True),
        ("La confirmation de commande arrive en coréen.", False),
        ("La confirmation de commande n'arrive pas.", True),
    ],
)
def test_arriving_names_a_failure_only_when_negated(text: str, failed: bool) -> None:
    lexicon = shipped_lexicon()
    tokens = lexicon.tokens(text)
    assert "c_receive" in tokens
    assert ("c_receive" in lexicon.failures(text, tokens)) is failed


def test_a_phrase_ending_in_de_takes_its_contracted_forms() -> None:
    lexicon = shipped_lexicon()
    for text in (
        "au lieu du mien",
        "au lieu des autres",
        "au lieu d'un colis",
        "en vez del suyo",
        "a pesar del aviso",
    ):
        assert {"c_instead", "c_contrary"} & set(lexicon.tokens(text)), text
    assert "c_instead" not in lexicon.tokens("le lieu du rendez-vous")
