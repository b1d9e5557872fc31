"""Sentiment and frustration over the whole conversation: VADER plus what it misses."""

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from ..config import FrustrationConfig
from ..models import DetectorResult, Reason, Ticket, Trigger
from ..text import fold, one_scan

_CAPS_WORD = re.compile(r"\b[A-ZÀ-ÖØ-Þ]{3,}\b")
# a name in title case: two or more capitalised words, maybe joined by a particle ("Angry Chef", "El Chef
# Cabreado", "Le Chef en Colère"); German capitalises every noun, so there it names nothing
_TITLED = re.compile(
    r"\b[A-ZÀ-ÖØ-Þ][\w'\u2019-]+(?:\s+(?:(?:de|del|la|le|les|el|en|of|the|du|des|y|et|and)\s+)?[A-ZÀ-ÖØ-Þ][\w'\u2019-]+)+"
)
_NO_TITLED_NAMES = frozenset({"de"})
_SENTENCE_START = re.compile(r"(?:^|[.!?:\n])\s*$")  # what precedes a sentence's first word
_SENTENCE_END_AHEAD = re.compile(r"\s*(?:[.!?\n]|$)")
_MAX_STATED = 50  # a larger number is a year or an order number, not a count of contacts
_WORD = re.compile(r"\b\w{3,}\b")
_EXCLAIM = re.compile(r"[!?]*![!?]*!+|!{2,}|\?{3,}")  # "!!", "?!!", and a "???" that demands
_CLAUSE = re.compile(r"[.,;:!?()\"\n]|\b(?:but|pero|aber|mais|sondern|though)\b")
_SENTENCE_END = re.compile(r"[.!?\n]")
_PUNCTUATION = string.punctuation
# single words that a friendly message can use lightly ("the icon looks ridiculous, haha")
_WORDY = ("accusation", "insult", "outrage", "exasperation", "charged")
# constructions: how a message is built, not one word in it, so friendliness does not soften them
_BUILT = ("sarcasm", "escalation_request", "disappointment", "consequence", "waiting")
_CHARGED = _WORDY + _BUILT
_LOUD = ("caps", "profanity", "threat", "ultimatum")
_ASKED = ("accusation", "charged", "ultimatum")  # "was that a scam?" asks; "if it fails, can I cancel?" too
_WORDS = {
    "negative": "strongly negative sentiment",
    "caps": "shouting in capitals",
    "threat": "a threat to cancel, leave or go public",
    "ultimatum": "an ultimatum: if it is not fixed, the customer leaves, reviews or disputes",
    "profanity": "profanity",
    "charged": "emotionally charged words",
    "accusation": "an accusation of fraud, theft or lying",
    "insult": "insults to the staff or the company",
    "outrage": "moral outrage at how the customer is treated",
    "exasperation": "the customer has run out of patience",
    "sarcasm": "sarcastic praise of a failure",
    "escalation_request": "asks for a manager or someone who can decide",
    "disappointment": "deep disappointment or feeling ignored",
    "consequence": "blames the company for a loss it caused",
    "waiting": "a long wait",
    "exclamations": "repeated exclamation marks",
    "follow_ups": "repeated follow-ups about the same problem",
    "rising": "the temperature rises over the conversation",
}


@dataclass(frozen=True)
class _Signals:
    names: tuple[str, ...]
    evidence: Mapping[str, str]  # read-only: a message's signals are cached and shared
    score: float
    stated_contacts: int  # how many times the customer says they have already got in touch
    chase: str | None  # words that chase an earlier request ("still locked", "any news?")
    thanks: bool  # a friendly message: laughter, warm thanks, thanks for help that worked


def _titled_names(text: str) -> set[str]:
    """Folded words of names written in title case. A run that opens a sentence loses its first word
    (capitalised anyway), and a whole sentence in title case is a heading ("Absolutely Unacceptable
    Service"), not a name."""
    found: set[str] = set()
    for run in _TITLED.finditer(text):
        words = run.group().split()
        if _SENTENCE_START.search(text, 0, run.start()):
            if _SENTENCE_END_AHEAD.match(text, run.end()):
                continue
            words = words[1:]
        if sum(word[0].isupper() for word in words) >= 2:
            found.update(fold(" ".join(words)).split())
    return found


class FrustrationDetector:
    """Scores each customer message, weights later ones more, and adds repeated follow-ups."""

    def __init__(self, config: FrustrationConfig, stopwords: frozenset[str]) -> None:
        self._config = config
        self._vader = SentimentIntensityAnalyzer()
        self._vader_words = frozenset(self._vader.lexicon)
        self._stopwords = stopwords
        # one alternation per group: a single scan of the message instead of one per pattern
        self._patterns = {k: one_scan(v) for k, v in config.patterns.items() if v and k != "contacts"}
        # each pattern captures its count in groups named `n...`; prefixed with the pattern's index, the
        # names stay apart when the patterns share one alternation
        contacts = config.patterns.get("contacts", [])
        self._contacts = one_scan(p.replace("(?P<n", f"(?P<p{i}_n") for i, p in enumerate(contacts))
        self._weights = config.weights.model_dump()
        # per detector: a conversation is decided again at each new message, and only the new one is scored
        self._message = lru_cache(maxsize=8192)(self._score)

    def _negated(self, folded: str, start: int) -> bool:
        """A negation among the few words before `start`, inside the same clause ("not upset")."""
        negation = self._patterns.get("negation")
        if negation is None or self._config.negation_words == 0:
            return False
        clause = _CLAUSE.split(folded[:start])[-1]
        window = " ".join(re.findall(r"\w+", clause)[-self._config.negation_words :])
        return bool(negation.search(window))

    def _match(self, group: str, folded: str, names: frozenset[str] = frozenset()) -> str | None:
        pattern = self._patterns.get(group)
        if pattern is None:
            return None
        for match in pattern.finditer(folded):
            if group != "follow_up" and self._negated(folded, match.start()):
                continue
            if names and names.issuperset(match.group(0).split()):
                continue  # inside a name written in capitals ("ANGRY BIRDS BAKERY"), not said in anger
            if group in _ASKED:
                end = _SENTENCE_END.search(folded, match.end())
                if end and end.group() == "?":
                    continue
            return match.group(0)[:60]
        return None

    def _stated_contacts(self, folded: str) -> int:
        words = self._config.count_words
        counts = [
            int(n) if n.isdigit() else words.get(n, 0)
            for m in self._contacts.finditer(folded)
            for n in m.groupdict().values()
            if n
        ]
        return max((c for c in counts if 2 <= c <= _MAX_STATED), default=0)

    def _shouting(self, text: str) -> str | None:
        caps = _CAPS_WORD.findall(text)
        if len(caps) < self._config.caps_min_words:
            return None
        ratio = len(caps) / max(1, len(_WORD.findall(text)))
        # product names are capitalised nouns; shouting capitalises the small words too
        small = sum(fold(word) in self._stopwords for word in caps)
        return " ".join(caps[:5]) if ratio >= self._config.caps_min_ratio or small >= 2 else None

    def _compound(self, text: str, language: str) -> float:
        # VADER's lexicon is English; on other languages it reads noise, and it is the slowest step
        if language != "en":
            return 0.0
        # VADER scores only words of its lexicon (emoji become words, so those texts go through): a
        # message with none scores 0 exactly, without the pure-Python pass
        if text.isascii() and not any(
            word in self._vader_words or word.strip(_PUNCTUATION) in self._vader_words
            for word in text.lower().split()
        ):
            return 0.0
        return self._vader.polarity_scores(text)["compound"]

    def _constructions(self, folded: str, evidence: dict[str, str]) -> None:
        praise = self._match("praise", folded)
        complaint = self._match("complaint", folded) if praise else None
        if praise and complaint:
            evidence["sarcasm"] = f"{praise} ... {complaint}"
        request = self._match("escalation_request", folded)
        if request and not self._match("courteous", folded):
            evidence["escalation_request"] = request

    def _score(self, text: str, language: str) -> _Signals:
        """One customer message's signals; they depend on nothing else, so `_message` caches them."""
        folded = fold(text)
        evidence: dict[str, str] = {}
        compound = self._compound(text, language)
        if compound <= self._config.vader_negative:
            evidence["negative"] = f"{compound:.2f}"
        names: frozenset[str] = frozenset()
        if shout := self._shouting(text):
            evidence["caps"] = shout
        else:
            names = frozenset(fold(word) for word in _CAPS_WORD.findall(text))
        if language not in _NO_TITLED_NAMES:
            names |= _titled_names(text)
        if bangs := _EXCLAIM.findall(text):
            evidence["exclamations"] = bangs[0]
        groups = ("threat", "ultimatum", "profanity", *_WORDY, "disappointment", "consequence", "waiting")
        for group in groups:
            if found := self._match(group, folded, names):
                evidence[group] = found
        self._constructions(folded, evidence)
        weights = self._weights
        wordy = max((weights[name] for name in _WORDY if name in evidence), default=0.0)
        friendly = self._match("calm", folded) is not None
        calm = friendly and not any(n in evidence for n in _LOUD)
        if compound >= 0.7 or calm:  # VADER reads "Honestly, this is a joke" at 0.64: friendly means more
            wordy /= 2  # a friendly message uses the words lightly ("ridiculous icon, haha")
        built = max((weights[name] for name in _BUILT if name in evidence), default=0.0)
        # the strongest charged category counts once; the others add what they add
        other = sum(weights[name] for name in evidence if name not in _CHARGED)
        score = min(1.0, other + max(wordy, built))
        return _Signals(
            tuple(evidence), MappingProxyType(evidence), score, self._stated_contacts(folded),
            self._match("follow_up", folded), friendly or self._match("resolved", folded) is not None,
        )  # fmt: skip

    def forget(self) -> None:
        """Drops the cached per-message signals (a benchmark measures decisions from cold)."""
        self._message.cache_clear()

    def detect(self, ticket: Ticket) -> DetectorResult:
        """Fires when the conversation's frustration score reaches the threshold."""
        config = self._config
        texts = ticket.customer_texts()
        signals = [self._message(text, ticket.language) for text in texts]
        n = len(signals)
        weighted = [
            s.score * (1 - config.recency_weight * (n - 1 - i) / max(1, n - 1)) for i, s in enumerate(signals)
        ]
        peak = max(range(n), key=lambda i: weighted[i])
        rest = sum(weighted) - weighted[peak]
        follow_ups = [s.chase for s in signals if s.chase]
        # the conversation is about one unresolved problem once a later message chases it; then each
        # customer message counts (the opening alone counts once), and what the customer says of
        # their history counts like the history this ticket shows
        stated = max(s.stated_contacts for s in signals)
        chased = n if any(s.chase for s in signals[1:]) else len(follow_ups)
        if n >= 2 and signals[-1].score == 0 and signals[-1].thanks:
            # the chase ended in thanks for help that worked; what the customer stated still counts
            chased = 0
        repeats = max(chased, stated)
        follow_score = (
            config.weights.follow_ups * min(1.0, repeats / config.follow_up_min) if repeats else 0.0
        )
        score = min(1.0, weighted[peak] + 0.25 * rest + follow_score)
        evidence: dict[str, str] = {}
        for s in signals:
            for name in s.names:
                evidence.setdefault(name, s.evidence[name])
        if follow_score >= config.weights.follow_ups * 0.99:
            said = f"says {stated} contacts" if stated >= repeats else (follow_ups or ["?"])[0]
            evidence["follow_ups"] = f"{n} customer messages; {said}"
        if n >= 2 and signals[-1].score >= signals[0].score + 0.3:
            evidence["rising"] = f"{signals[0].score:.2f} -> {signals[-1].score:.2f}"
        fired = score >= config.threshold
        near = not fired and score >= config.offer_threshold
        reasons = tuple(
            Reason(code=f"frustration.{name}", trigger=Trigger.FRUSTRATION, text=_WORDS[name], evidence=found)
            for name, found in evidence.items()
        )
        return DetectorResult(
            trigger=Trigger.FRUSTRATION,
            score=score,
            fired=fired,
            near=near,
            reasons=reasons if fired or near else (),
        )
