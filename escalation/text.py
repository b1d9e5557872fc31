"""Text folding and the multilingual concept mapping that lets tickets in es/de/fr meet an English KB."""

import json
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

_TOKEN = re.compile(r"[a-z0-9_]+")
_WORD = re.compile(r"[a-z0-9]+")
_SPACES = re.compile(r"[^\S\n]{2,}|[^\S\n ]")  # patterns are written with single spaces; lines stay lines
_RESIDUAL_STEM = 6  # unknown words are cut to this many letters: a crude stemmer for every language
_MIN_COMPOUND = 8  # German-style compounds: a long unknown word may end in a known one
_CONTRARY = "c_contrary"  # the concession marker ("although", "obwohl", "aunque", "alors que")
_CLAUSE_END = re.compile(r"[.!?;\n]")


def _starts_words(pattern: str) -> bool:
    """Every top-level alternative of `pattern` begins at a word boundary (or a line start)."""
    depth, starts, i, in_class = 0, [0], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            starts.append(i + 1)
        i += 1
    return all(pattern.startswith((r"\b", "(?m:^)"), start) for start in starts)


def _contracted(form: str) -> str:
    """A phrase ending in "de" also ends in the forms it takes before an article: French du, des, d',
    Spanish del ("au lieu du mien", "en vez del suyo")."""
    return f"{form[:-3]} d(?:e|u|es|el|['\u2019])" if form.endswith(" de") else form


def one_scan(patterns: Iterable[str]) -> re.Pattern[str]:
    """One alternation for a group of patterns: a single scan of the text instead of one per pattern.

    Alternatives that begin at a word boundary are tried only where a word begins, which halves the
    time of a scan (the regex engine otherwise tries every alternative at every character)."""
    patterns = list(patterns)
    worded = [p for p in patterns if _starts_words(p)]
    other = [p for p in patterns if not _starts_words(p)]
    parts = [f"(?<![a-z0-9_])(?:{'|'.join(f'(?:{p})' for p in worded)})"] if worded else []
    parts += [f"(?:{p})" for p in other]
    return re.compile("|".join(parts) or r"(?!)")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ẞ", "ss"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# the Latin letters of en/es/de/fr and their neighbours, folded once: str.translate is one C call,
# where decomposing and filtering every character cost more than the patterns on short messages
_LATIN = str.maketrans({chr(c): _strip_accents(chr(c)) for c in range(0xC0, 0x250)})


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Lower case, accents removed, ß as ss, runs of spaces as one: the form every pattern is written in."""
    if not text.isascii():
        text = text.translate(_LATIN)
        if not text.isascii():
            text = _strip_accents(text)
    return _SPACES.sub(" ", text.lower())


class ConceptLexicon:
    """Maps surface forms in several languages to shared concept tokens (`c_password`)."""

    def __init__(
        self,
        concepts: dict[str, str],
        stopwords: dict[str, str],
        anomalies: dict[str, str] | None = None,
        outcomes: Iterable[str] = (),
        negations: str = "",
        negated_outcomes: Iterable[str] = (),
        implied_outcomes: Iterable[dict[str, Any]] = (),
    ) -> None:
        anomalies = anomalies or {}
        # English contractions ("didn't") need the apostrophe: a bare `n.t` also matched German verbs
        # ending in -nkt/-nnt ("sinkt", "kennt") and read them as negations
        self._negation = re.compile(rf"\b(?:{negations})\b|n['\u2019]t\b") if negations else None
        contrary = anomalies.get(_CONTRARY[2:], "").replace("*", r"[a-z0-9]*")
        self._contrary = re.compile(rf"\b(?:{contrary})\b") if contrary else None
        self.anomalies = frozenset(f"c_{name}" for name in anomalies)  # unexpected behaviour markers
        self.outcomes = frozenset(f"c_{name}" for name in outcomes)  # concepts naming what went wrong
        # concepts naming a failure only when negated: "the mail does not arrive", not "it arrives in Korean"
        self.negated_outcomes = frozenset(f"c_{name}" for name in negated_outcomes)
        self.failure_concepts = self.outcomes | self.negated_outcomes  # every concept that can name a failure
        # (marker, the concepts it must be said of, the outcome it then names)
        self._implied = tuple(
            (f"c_{rule['marker']}", frozenset(f"c_{name}" for name in rule["with"]), f"c_{rule['outcome']}")
            for rule in implied_outcomes
        )
        concepts = {**concepts, **anomalies}
        self._exact: dict[str, str] = {}
        self._prefix: dict[str, str] = {}
        phrases: list[tuple[str, str]] = []
        for concept, forms in concepts.items():
            token = f"c_{concept}"
            for form in forms.split("|"):
                if re.search(r"[^a-z0-9*]", form):
                    phrases.append((form, token))
                elif form.endswith("*"):
                    self._prefix[form[:-1]] = token
                else:
                    self._exact[form] = token
        phrases.sort(key=lambda item: len(item[0]), reverse=True)
        # phrases indexed by their first word: a text is scanned once, word by word, instead of trying
        # every phrase at every position (the regex alternation cost most of a decision's time)
        self._by_first: dict[str, list[tuple[re.Pattern[str], str]]] = {}
        for form, token in phrases:
            first = _WORD.match(form)
            assert first, f"phrase {form!r} must start with a letter or digit"
            pattern = re.compile(rf"(?:{_contracted(form).replace('*', r'[a-z0-9]*')})\b")
            self._by_first.setdefault(first.group(), []).append((pattern, token))
        self._stop = frozenset(word for words in stopwords.values() for word in words.split())
        # a marker of unexpected behaviour or a failure counts even where it is also a stopword
        # ("although", "obwohl", "instead", "wrong")
        symptoms = self.anomalies | self.outcomes | self.negated_outcomes
        self._markers = {word: token for word, token in self._exact.items() if token in symptoms}

    def negated(self, text: str) -> bool:
        """Whether a text holds a negation ("not", "nunca", "kein", "pas", "didn't")."""
        return self._negation is not None and self._negation.search(fold(text)) is not None

    def failures(self, text: str, tokens: Iterable[str]) -> frozenset[str]:
        """The concepts among a text's tokens that name what went wrong in it."""
        found = frozenset(tokens)
        named = self.outcomes & found
        if self.negated_outcomes and self.negated(text):
            named |= self.negated_outcomes & found
        for marker, said_of, outcome in self._implied:
            if marker in found and not said_of.isdisjoint(found):
                named |= {outcome}
        return named

    @property
    def stopwords(self) -> frozenset[str]:
        """Every language's stopwords, folded."""
        return self._stop

    def _phrases(self, folded: str) -> str:
        out: list[str] = []
        last = 0
        for word in _WORD.finditer(folded):
            start = word.start()
            if start < last:
                continue
            for pattern, token in self._by_first.get(word.group(), ()):
                if hit := pattern.match(folded, start):
                    out += (folded[last:start], f" {token} ")
                    last = hit.end()
                    break
        out.append(folded[last:])
        return "".join(out)

    @lru_cache(maxsize=65536)  # noqa: B019 - one lexicon per process; the cache is the point
    def _word(self, word: str) -> str | None:
        if word in self._exact:
            return self._exact[word]
        for end in range(len(word), 2, -1):
            token = self._prefix.get(word[:end])
            if token:
                return token
        if len(word) >= _MIN_COMPOUND:
            for start in range(3, len(word) - 3):
                tail = word[start:]
                token = self._exact.get(tail) or self._prefix.get(tail)
                if token:
                    return token
        return None

    @lru_cache(maxsize=8192)  # noqa: B019 - a conversation is decided again at each new message
    def tokens(self, text: str) -> tuple[str, ...]:
        """Concept tokens for known words, short stems for unknown ones, nothing for stopwords."""
        plain = fold(text)
        folded = self._phrases(plain)
        out: list[str] = []
        for word in _TOKEN.findall(folded):
            if word.startswith("c_"):
                out.append(word)
            elif word in self._markers:
                out.append(self._markers[word])
            elif word in self._stop or len(word) < 3 or word.isdigit():
                continue
            else:
                out.append(self._word(word) or word[:_RESIDUAL_STEM])
        if _CONTRARY in out and self._concedes_failure(plain):
            out.remove(_CONTRARY)
        return tuple(out)

    def _concedes_failure(self, folded: str) -> bool:
        """A concession after a negated main clause ("it does not turn on although I charged it"): the
        ordinary report of a known failure, not behaviour nobody asked for."""
        found = self._contrary.search(folded) if self._contrary else None
        if found is None or self._negation is None:
            return False
        main = _CLAUSE_END.split(folded[: found.start()])[-1]
        if not main.strip(" ,"):  # "although I charged it, it does not turn on": the main clause follows
            after = folded[found.end() :].split(",", 1)
            main = _CLAUSE_END.split(after[1])[0] if len(after) > 1 else ""
        return self._negation.search(main) is not None


@lru_cache(maxsize=1)
def shipped_lexicon() -> ConceptLexicon:
    """The lexicon that ships with the package (escalation/data/lexicon.json)."""
    raw = json.loads(resources.files("escalation").joinpath("data/lexicon.json").read_text("utf-8"))
    anomalies, outcomes, negations = raw.get("anomalies"), raw.get("outcomes", ()), raw.get("negations", "")
    negated, implied = raw.get("negated_outcomes", ()), raw.get("implied_outcomes", ())
    return ConceptLexicon(raw["concepts"], raw["stopwords"], anomalies, outcomes, negations, negated, implied)
