"""Context bundle: one canonical encoding, a pinned digest, a spec hash bound to bundle and criteria."""

import json
import unicodedata

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol_core.context import (
    SPEC_TAG,
    ContextBundle,
    ContextError,
    DocLink,
    Message,
    criteria_hash,
    spec_hash,
)

settings.register_profile(
    "context", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)

FIXED = ContextBundle(
    ticket_ref="ZD-1042",
    language="fr",
    issue="Double charge on the March invoice; the customer wants a refund",
    conversation=(
        Message(role="customer", text="On m'a débité deux fois — café compris ☕", ts=1_750_000_000),
        Message(role="agent", text="I see two charges of 49 EUR.", ts=1_750_000_060),
    ),
    customer={"plan": "pro", "account_age_days": "730"},
    docs=(DocLink(title="Refund runbook", url="https://wiki.example/refunds"),),
    acceptance_criteria=("The duplicate charge is refunded", "The customer confirms"),
    redactions={"counts": {"email": 1}},
)


def test_digest_is_pinned():
    # Changing the encoding changes every spec hash ever posted: this value must never move.
    assert FIXED.canonical().startswith(b'{"acceptance_criteria":["The duplicate charge is refunded"')
    assert FIXED.context_hash() == keccak(FIXED.canonical())
    assert "0x" + FIXED.spec_hash().hex() == (
        "0x" + keccak(encode(["bytes32"] * 3, [SPEC_TAG, FIXED.context_hash(), FIXED.criteria_hash()])).hex()
    )
    assert FIXED.context_hash().hex() == "e0ddac0b8bad05a0315f492382c2b4f88233db19c93c822661952ab9fe137765"


def test_spec_hash_commits_to_criteria_separately():
    other = FIXED.model_copy(update={"acceptance_criteria": ("The duplicate charge is refunded",)})
    assert other.spec_hash() != FIXED.spec_hash()
    # Anyone given the criteria and the context hash can check them against the terms' spec hash.
    assert (
        spec_hash(FIXED.context_hash(), criteria_hash(list(FIXED.acceptance_criteria))) == FIXED.spec_hash()
    )


def test_parse_round_trips_and_refuses_non_canonical_bytes():
    assert ContextBundle.parse(FIXED.canonical()) == FIXED
    pretty = json.dumps(json.loads(FIXED.canonical()), indent=2).encode()
    with pytest.raises(ContextError, match="canonical form"):
        ContextBundle.parse(pretty)
    with pytest.raises(ContextError, match="duplicate key"):
        ContextBundle.parse(b'{"version":1,"version":1}')
    with pytest.raises(ContextError, match="not a context bundle"):
        ContextBundle.parse(b"\xff")


def test_check_spec_refuses_another_jobs_hash():
    FIXED.check_spec(FIXED.spec_hash())
    with pytest.raises(ContextError, match="not the context this job was posted with"):
        FIXED.check_spec(keccak(b"another job"))


def test_refuses_keys_equal_after_normalisation():
    with pytest.raises(ValueError, match="different Unicode forms"):
        FIXED.model_copy().model_validate(
            {**FIXED.model_dump(), "customer": {"caf\u00e9": "1", "cafe\u0301": "2"}}
        )


def test_refuses_empty_criteria_and_unknown_fields():
    with pytest.raises(ValueError, match="acceptance_criteria"):
        ContextBundle(ticket_ref="T", language="en", issue="x", acceptance_criteria=())
    with pytest.raises(ValueError, match="empty"):
        ContextBundle(ticket_ref="T", language="en", issue="x", acceptance_criteria=("  ",))
    with pytest.raises(ValueError, match="Extra inputs"):
        ContextBundle.model_validate({**FIXED.model_dump(), "secret": 1})


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
customer = st.dictionaries(text.map(lambda s: unicodedata.normalize("NFC", s)), text, max_size=5)


@settings(settings.get_profile("context"))
@given(
    issue=text,
    messages=st.lists(st.tuples(st.sampled_from(["customer", "agent"]), text, st.integers(0, 2**40))),
    customer=customer,
    criteria=st.lists(text.filter(lambda s: s.strip()), min_size=1, max_size=4),
)
def test_encoding_is_stable_under_key_order_and_unicode_form(issue, messages, customer, criteria):
    conversation = [{"role": r, "text": t, "ts": ts} for r, t, ts in messages]
    fields = dict(ticket_ref="T-1", language="en", issue=issue, conversation=conversation,
                  customer=customer, acceptance_criteria=criteria)  # fmt: skip
    bundle = ContextBundle.model_validate(fields)
    # The same content given in another key order and in decomposed Unicode is the same bundle.
    nfd = {k: v for k, v in reversed(list(fields.items()))}
    nfd["issue"] = unicodedata.normalize("NFD", issue)
    nfd["customer"] = {unicodedata.normalize("NFD", k): unicodedata.normalize("NFD", v)
                       for k, v in reversed(list(customer.items()))}  # fmt: skip
    nfd["conversation"] = [{"ts": m["ts"], "text": unicodedata.normalize("NFD", m["text"]), "role": m["role"]}
                           for m in conversation]  # fmt: skip
    other = ContextBundle.model_validate(nfd)
    assert other.canonical() == bundle.canonical()
    assert other.spec_hash() == bundle.spec_hash()
    assert ContextBundle.parse(bundle.canonical()) == bundle
