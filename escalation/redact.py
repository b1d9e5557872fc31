"""Personal-data redaction: emails, phones, cards, IBANs, national ids, street addresses; kinds configurable.

Used for exported training data and for the context a worker is sent. Numbers that carry a
checksum (cards: Luhn; IBAN: mod 97; Spanish DNI/NIE, French NIR, Italian codice fiscale: their
check characters, through python-stdnum) are redacted only when the checksum holds, so order and
invoice numbers stay readable.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban as std_iban
from stdnum.es import dni as std_dni
from stdnum.es import nie as std_nie
from stdnum.fr import nir as std_nir
from stdnum.it import codicefiscale as std_cf

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_NATIONAL = {
    "ssn_us": re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b"),
    "dni_es": re.compile(r"\b\d{8}[A-HJ-NP-TV-Z]\b"),
    "nie_es": re.compile(r"\b[XYZ]-?\d{7}-?[A-HJ-NP-TV-Z]\b"),
    "nir_fr": re.compile(r"\b[12] ?\d{2} ?(?:0[1-9]|1[0-2]) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b"),
    "cf_it": re.compile(r"\b[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]\b"),
}
KINDS = ("email", "iban", "card", "id", "phone", "address")  # every kind; `redact(kinds=...)` picks some
_STREET = re.compile(
    r"\b\d{1,5}[a-z]?,? (?:[A-Z][\w'-]+ ){0,3}"
    r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Boulevard|Blvd\.?|Drive|Dr\.?)\b"
    r"|\b(?:Calle|C/|Avenida|Avda\.?|Rue|Avenue|Boulevard|Chemin|Place)\s+(?:de\s+|del\s+|la\s+|des\s+)?[\w'-]+(?:\s+[\w'-]+){0,3},?\s+\d{1,5}\b"
    r"|\b\d{1,4}(?:bis|ter)?,? (?:rue|avenue|boulevard|chemin|place|allee)\s+[\w' -]{2,40}?(?=[,.\n]|$)"
    r"|\b[A-ZÄÖÜ][\wäöüß-]*(?:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee)\s+\d{1,4}[a-z]?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RedactionReport:
    """How many items of each kind were replaced."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All replacements."""
        return sum(self.counts.values())


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum card numbers carry."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    """The ISO 13616 mod-97 check, with the country's length."""
    return bool(std_iban.is_valid(iban))


def redact(text: str, region: str | None = None, kinds: Iterable[str] = KINDS) -> tuple[str, RedactionReport]:
    """The text with personal data of `kinds` replaced by [EMAIL], [PHONE], [CARD], [IBAN], [ID]..."""
    wanted = set(kinds)
    if wanted - set(KINDS):
        raise ValueError(f"unknown redaction kinds {sorted(wanted - set(KINDS))}: choose from {KINDS}")
    counts: Counter[str] = Counter()

    def sub(
        pattern: re.Pattern[str], label: str, text: str, check: Callable[[str], bool] | None = None
    ) -> str:
        def replace(match: re.Match[str]) -> str:
            value = match.group(0)
            if check is not None and not check(value):
                return value
            counts[label.strip("[]").lower()] += 1
            return label

        return pattern.sub(replace, text) if label.strip("[]").lower() in wanted else text

    text = sub(_EMAIL, "[EMAIL]", text)
    text = sub(_IBAN, "[IBAN]", text, iban_ok)
    text = sub(_CARD, "[CARD]", text, lambda v: luhn_ok(re.sub(r"\D", "", v)))
    text = sub(_NATIONAL["ssn_us"], "[ID]", text)
    text = sub(_NATIONAL["dni_es"], "[ID]", text, std_dni.is_valid)
    text = sub(_NATIONAL["nie_es"], "[ID]", text, std_nie.is_valid)
    text = sub(_NATIONAL["nir_fr"], "[ID]", text, std_nir.is_valid)
    text = sub(_NATIONAL["cf_it"], "[ID]", text, std_cf.is_valid)
    if "phone" in wanted:
        for match in reversed(list(phonenumbers.PhoneNumberMatcher(text, region or "US"))):
            text = text[: match.start] + "[PHONE]" + text[match.end :]
            counts["phone"] += 1
    text = sub(_STREET, "[ADDRESS]", text)
    return text, RedactionReport(dict(counts))
