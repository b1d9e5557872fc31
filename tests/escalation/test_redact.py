"""Personal-data redaction for exported training data."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.redact import iban_ok, luhn_ok, redact


def test_redacts_each_kind() -> None:
    text = "jane@example.com, +1 415 555 0132, 4111 1111 1111 1111, DE89 3704 0044 0532 0130 00, 12345678Z"
    redacted, report = redact(text)
    assert redacted == "[EMAIL], [PHONE], [CARD], [IBAN], [ID]"
    assert report.total == 5


def test_number_failing_luhn_is_kept() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert redact("order 4111 1111 1111 1112")[0] == "order 4111 1111 1111 1112"


def test_iban_checksum() -> None:
    assert iban_ok("DE89370400440532013000") and not iban_ok("DE88370400440532013000")


def test_street_addresses() -> None:
    assert redact("I live at 221 Baker Street now")[0] == "I live at [ADDRESS] now"
    assert redact("Hauptstraße 12, Berlin")[0] == "[ADDRESS], Berlin"


@settings(deadline=None, max_examples=100)
@given(st.text(max_size=120))
def test_redaction_is_idempotent(text: str) -> None:
    once, _ = redact(text)
    assert redact(once)[0] == once


def test_national_ids_only_with_a_valid_checksum() -> None:
    text = "NIR 2 69 05 49 588 157 80, NIE X1234567L, CF RSSMRA85T10A562S"
    assert redact(text)[0] == "NIR [ID], NIE [ID], CF [ID]"
    assert redact("NIR 2 69 05 49 588 157 81, NIE X1234567A")[0] == "NIR 2 69 05 49 588 157 81, NIE X1234567A"


def test_kinds_are_configurable() -> None:
    text = "jane@example.com or +1 415 555 0132"
    redacted, report = redact(text, kinds=["email"])
    assert redacted == "[EMAIL] or +1 415 555 0132"
    assert report.counts == {"email": 1}
    with pytest.raises(ValueError, match="unknown redaction kinds"):
        redact(text, kinds=["emails"])
