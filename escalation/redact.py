"""Personal-data redaction for exported text: emails, phones, cards, IBANs, national ids, street addresses."""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_NATIONAL = {
    "ssn_us": re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b"),
    "dni_es": re.compile(r"\b\d{8}[A-HJ-NP-TV-Z]\b"),
    "nir_fr": re.compile(r"\b[12] ?\d{2} ?(?:0[1-9]|1[0-2]) ?\d{2} ?\d{3} ?\d{3} ?\d{2}\b"),
}
_STREET = re.compile(
    r"\b\d{1,5}[a-z]?,? (?:[A-Z][\w'-]+ ){0,3}"
    r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Boulevard|Blvd\.?|Drive|Dr\.?)\b"
    r"|\b(?:Calle|C/|Avenida|Avda\.?|Rue|Avenue|Boulevard|Chemin|Place)\s+(?:de\s+|del\s+|la\s+|des\s+)?[\w'-]+(?:\s+[\w'-]+){0,3},?\s+\d{1,5}\b"
    r"|\b\d{1,4}(?:bis|ter)?,? (?:rue|avenue|boulevard|chemin|place|allee)\s+[\w' -]{2,40}?(?=[,.\n]|$)"
    r"|\b[A-ZÄÖÜ][\wäöüß-]*(?:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee)\s+\d{1,4}[a-z]?\b",
    re.IGNORECASE,
)
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


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
    """The ISO 13616 mod-97 check."""
    compact = iban.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _dni_ok(value: str) -> bool:
    return _DNI_LETTERS[int(value[:8]) % 23] == value[8].upper()


def redact(text: str, region: str | None = None) -> tuple[str, RedactionReport]:
    """The text with personal data replaced by [EMAIL], [PHONE], [CARD], [IBAN], [ID], [ADDRESS]."""
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

        return pattern.sub(replace, text)

    text = sub(_EMAIL, "[EMAIL]", text)
    text = sub(_IBAN, "[IBAN]", text, iban_ok)
    text = sub(_CARD, "[CARD]", text, lambda v: luhn_ok(re.sub(r"\D", "", v)))
    text = sub(_NATIONAL["ssn_us"], "[ID]", text)
    text = sub(_NATIONAL["dni_es"], "[ID]", text, _dni_ok)
    text = sub(_NATIONAL["nir_fr"], "[ID]", text)
    for match in reversed(list(phonenumbers.PhoneNumberMatcher(text, region or "US"))):
        text = text[: match.start] + "[PHONE]" + text[match.end :]
        counts["phone"] += 1
    text = sub(_STREET, "[ADDRESS]", text)
    return text, RedactionReport(dict(counts))
