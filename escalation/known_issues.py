"""The issues the agent knows, as a small TF-IDF index over concept tokens with nearest-neighbour search."""

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import KnownIssuesError
from .text import ConceptLexicon

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_MIN_SENTENCE_TOKENS = 2  # a sentence with fewer topic words says too little to match on its own


@dataclass(frozen=True)
class Neighbour:
    """The closest known issue to a text and how close it is (cosine similarity in [0, 1])."""

    issue_id: str
    text: str
    similarity: float  # cosine of the concept vectors, before any marker penalty
    unexplained_marker: bool = False  # the text reports unexpected behaviour this issue does not explain
    unexplained_concepts: int = 0  # distinct support concepts of the text this issue does not name
    fit: float = -1.0  # the similarity after the marker penalty (`anomaly_factor`): what ranks issues

    @property
    def rank(self) -> float:
        """What ranks neighbours: the penalised similarity when one was computed."""
        return self.similarity if self.fit < 0 else self.fit


class KnownIssueIndex:
    """Known issues in any language; words no issue uses count against similarity (`unknown_weight`)."""

    def __init__(self, lexicon: ConceptLexicon, unknown_weight: float, anomaly_factor: float = 1.0) -> None:
        self._lexicon = lexicon
        self._unknown_weight = unknown_weight
        self._anomaly_factor = anomaly_factor
        self._ids: list[str] = []
        self._texts: list[str] = []
        self._tokens: list[Counter[str]] = []
        self._idf: dict[str, float] = {}
        self._postings: dict[str, list[tuple[int, float]]] = {}
        self._max_idf = 1.0

    def __len__(self) -> int:
        return len(self._ids)

    def items(self) -> list[tuple[str, str]]:
        """Every (id, text) pair, in the order added."""
        return list(zip(self._ids, self._texts, strict=True))

    def add(self, items: Iterable[tuple[str, str]]) -> None:
        """Adds (id, text) pairs and rebuilds the weights (cheap: thousands of short texts)."""
        for issue_id, text in items:
            self._ids.append(issue_id)
            self._texts.append(text)
            self._tokens.append(Counter(self._lexicon.tokens(text)))
        self._rebuild()

    def _rebuild(self) -> None:
        n = len(self._tokens)
        df = Counter(term for counts in self._tokens for term in counts)
        self._idf = {term: math.log((1 + n) / (1 + d)) + 1 for term, d in df.items()}
        self._max_idf = max(self._idf.values(), default=1.0)
        self._postings = {}
        for doc, counts in enumerate(self._tokens):
            vector = {t: (1 + math.log(c)) * self._idf[t] for t, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
            for term, weight in vector.items():
                self._postings.setdefault(term, []).append((doc, weight / norm))

    def nearest(self, text: str) -> Neighbour | None:
        """The closest issue to the whole text or to one of its sentences (long tickets state one problem)."""
        if not self._ids:
            return None
        candidates = [self._nearest(text, Counter(self._lexicon.tokens(text)))]
        sentences = _SENTENCE.split(text)
        if len(sentences) > 1:
            for sentence in sentences:
                counts = Counter(self._lexicon.tokens(sentence))
                if counts.total() >= _MIN_SENTENCE_TOKENS:
                    candidates.append(self._nearest(sentence, counts))
        found = [c for c in candidates if c is not None]
        return max(found, key=lambda n: n.rank) if found else None

    def _nearest(self, text: str, counts: Counter[str]) -> Neighbour | None:
        if not counts:
            return None
        unknown = self._unknown_weight * self._max_idf
        vector = {t: (1 + math.log(c)) * self._idf.get(t, unknown) for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        scores: dict[int, float] = {}
        for term, weight in vector.items():
            for doc, doc_weight in self._postings.get(term, ()):
                scores[doc] = scores.get(doc, 0.0) + weight * doc_weight
        if not scores:
            return Neighbour(issue_id="", text="", similarity=0.0, unexplained_concepts=_concepts(counts))
        raw = dict(scores)
        anomalies = self._lexicon.anomalies.intersection(counts)
        unexplained: set[int] = set()
        if anomalies:
            outcomes = self._lexicon.failures(text, counts)
            for doc in scores:
                # the ticket reports behaviour nobody asked for; an issue that neither carries the same
                # marker nor names a failure, when the ticket names one, does not explain it, however
                # many words it shares: "every time I log in it says the password is wrong" is a login
                # error with an incidental "every time"; "every time I log in I see a stranger's orders"
                # names no failure and stays unexplained
                issue = self._tokens[doc]
                named = bool(outcomes) and not self._lexicon.failure_concepts.isdisjoint(issue)
                if not anomalies.issubset(issue) and not named:
                    unexplained.add(doc)
                    scores[doc] *= self._anomaly_factor
        best = max(scores, key=scores.__getitem__)
        issue = self._tokens[best]
        return Neighbour(
            self._ids[best],
            self._texts[best],
            min(1.0, raw[best] / norm),
            unexplained_marker=best in unexplained,
            unexplained_concepts=_concepts(counts, issue),
            fit=min(1.0, scores[best] / norm),
        )


def _concepts(counts: Counter[str], issue: Counter[str] | None = None) -> int:
    return sum(1 for term in counts if term.startswith("c_") and (issue is None or term not in issue))


def read_known_issues(path: Path) -> list[tuple[str, str]]:
    """(id, text) pairs from a JSON-lines file whose lines carry `text` (and optionally `id`)."""
    items: list[tuple[str, str]] = []
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise KnownIssuesError(
            f"cannot read known issues {path}: {exc}; pass a readable JSONL file"
        ) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["text"]
            if not isinstance(text, str) or not text.strip():
                raise ValueError("text is empty")
        except (ValueError, KeyError, TypeError) as exc:
            raise KnownIssuesError(
                f"{path} line {number}: {exc!r}; each line must be a JSON object with a non-empty 'text'"
            ) from None
        items.append((str(record.get("id", f"{path.name}:{number}")), text))
    return items
