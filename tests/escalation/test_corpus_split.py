"""The corpus split stays honest: no new problem is seen on both sides, and the training-only batch is dev."""

from collections import defaultdict

from escalation.evaluate import load_corpus

ROWS = load_corpus()


def test_no_new_problem_appears_in_both_splits() -> None:
    splits: dict[str, set[str]] = defaultdict(set)
    for row in ROWS:
        if row.family:
            splits[row.family].add(row.split)
    assert splits, "the corpus holds new problems"
    assert {family: s for family, s in splits.items() if len(s) > 1} == {}


def test_the_fifth_batch_is_training_data_in_every_language() -> None:
    fifth = [row for row in ROWS if (row.ticket.id or "").split("-", 1)[1].startswith("v")]
    assert {row.split for row in fifth} == {"dev"}
    languages: dict[str, set[str]] = defaultdict(set)
    for row in fifth:
        if row.family:
            languages[row.family].add(row.ticket.language)
    assert len(languages) == 10
    assert all(found == {"en", "es", "de", "fr"} for found in languages.values())
