"""Evidence bundle: one canonical encoding, a pinned digest, a strict parser, the customer's signature."""

import json

import pytest
from eth_account import Account
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol_core.evidence import (
    EvidenceBundle,
    EvidenceSchemaError,
    InvalidConfirmation,
    MalformedEvidence,
    Outcome,
    build_bundle,
    confirmation_signer,
    sign_confirmation,
)
from tests.oracle_node.evidence_server import (
    CHAIN_ID,
    CONFIRMER,
    CONFIRMER_KEY,
    ESCROW,
    JOB_ID,
    OTHER_KEY,
    make_bundle,
)

FIXED = build_bundle(
    CONFIRMER_KEY,
    chain_id=137,
    escrow="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    job_id=keccak(b"job-1"),
    ticket_ref="ZD-1042",
    outcome=Outcome.RESOLVED,
    confirmed_at=1_750_000_000,
    summary="Reset the customer's 2FA; they logged in again — café ✓",
)
# Computed once from FIXED; any other implementation of the encoding must produce the same hash.
FIXED_DIGEST = bytes.fromhex("e780df532fb10769c9d9e41bf97280fa33b0d0947824bd69e24be731de458a7e")
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _json(**changes: object) -> bytes:
    fields = {**json.loads(FIXED.canonical()), **changes}
    return json.dumps({k: v for k, v in fields.items() if v is not ...}, sort_keys=True).encode()


def test_digest_is_pinned():
    assert make_bundle() == FIXED  # the bundle the node tests serve is this one
    assert FIXED.digest() == FIXED_DIGEST
    assert FIXED.digest() == keccak(FIXED.canonical())


def test_canonical_is_sorted_compact_utf8_json():
    raw = FIXED.canonical()
    text = raw.decode("utf-8")
    assert list(json.loads(raw)) == sorted(json.loads(raw))
    assert text == json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert "café ✓" in text and "\\u" not in text
    assert '"outcome":1' in text and f'"job_id":"0x{JOB_ID.hex()}"' in text


def test_parse_round_trips():
    parsed = EvidenceBundle.parse(FIXED.canonical())
    assert parsed == FIXED
    assert parsed.canonical() == FIXED.canonical()
    assert parsed.outcome is Outcome.RESOLVED


@settings(deadline=None, max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(summary=st.text(max_size=4000), ticket_ref=st.text(min_size=1, max_size=128))
def test_any_text_round_trips_through_one_encoding(summary, ticket_ref):
    bundle = FIXED.model_copy(update={"summary": summary, "ticket_ref": ticket_ref})
    assert EvidenceBundle.parse(bundle.canonical()).canonical() == bundle.canonical()


def test_upper_case_hex_is_stored_lower_case():
    bundle = EvidenceBundle.parse(_json(job_id="0x" + JOB_ID.hex().upper()))
    assert bundle.job_id == "0x" + JOB_ID.hex()


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"version":1,', id="truncated"),
        pytest.param(FIXED.canonical().replace("é".encode(), b"\xe9"), id="latin-1"),
        pytest.param(b"\xef\xbb\xbf" + FIXED.canonical(), id="byte-order-mark"),
        pytest.param(
            FIXED.canonical().replace(b'{"chain_id":137', b'{"chain_id":137,"chain_id":1'), id="dup"
        ),
        pytest.param(FIXED.canonical().replace(b"1750000000", b"NaN"), id="nan"),
        pytest.param(b"[" * 100_000, id="deep-nesting"),
    ],
)
def test_parse_refuses_what_is_not_utf8_json(raw):
    with pytest.raises(MalformedEvidence, match="not UTF-8 JSON"):
        EvidenceBundle.parse(raw)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_json(tip=1), id="unknown-field"),
        pytest.param(_json(summary=...), id="missing-summary"),
        pytest.param(_json(confirmation=...), id="missing-confirmation"),
        pytest.param(_json(confirmed_at=1_750_000_000.0), id="float-int"),
        pytest.param(FIXED.canonical().replace(b'"chain_id":137', b'"chain_id":1.37e2'), id="exponent-int"),
        pytest.param(_json(outcome=1.0), id="float-outcome"),
        pytest.param(_json(version=True), id="bool-version"),
        pytest.param(_json(outcome=True), id="bool-outcome"),
        pytest.param(_json(version=2), id="version-2"),
        pytest.param(_json(outcome=3), id="unknown-outcome"),
        pytest.param(_json(chain_id="137"), id="string-int"),
        pytest.param(_json(confirmed_at=-1), id="negative-time"),
        pytest.param(_json(confirmed_at=2**64), id="time-over-uint64"),
        pytest.param(_json(escrow=ESCROW.lower()), id="escrow-not-checksummed"),
        pytest.param(_json(job_id="0x" + JOB_ID.hex()[:-2]), id="job-id-short"),
        pytest.param(_json(job_id=JOB_ID.hex()), id="job-id-no-0x"),
        pytest.param(_json(confirmation=FIXED.confirmation[:-2]), id="signature-short"),
        pytest.param(_json(ticket_ref=""), id="empty-ticket"),
        pytest.param(_json(ticket_ref="T" * 129), id="long-ticket"),
        pytest.param(_json(summary="s" * 4001), id="long-summary"),
        pytest.param(_json(summary="\ud800"), id="lone-surrogate"),
        pytest.param(b"[1]", id="array"),
    ],
)
def test_parse_refuses_what_the_schema_does_not_allow(raw):
    with pytest.raises(EvidenceSchemaError):
        EvidenceBundle.parse(raw)


def test_parse_accepts_the_longest_fields():
    bundle = EvidenceBundle.parse(_json(summary="s" * 4000, ticket_ref="T" * 128))
    assert (len(bundle.summary), len(bundle.ticket_ref)) == (4000, 128)


def test_signer_is_the_confirmer():
    assert confirmation_signer(FIXED) == CONFIRMER
    assert make_bundle(OTHER_KEY).confirmation != FIXED.confirmation
    assert confirmation_signer(make_bundle(OTHER_KEY)) == Account.from_key(OTHER_KEY).address


def test_sign_confirmation_is_the_bundle_confirmation():
    signature = sign_confirmation(
        CONFIRMER_KEY,
        chain_id=CHAIN_ID,
        escrow=ESCROW,
        job_id=JOB_ID,
        ticket_ref=FIXED.ticket_ref,
        outcome=Outcome.RESOLVED,
        confirmed_at=FIXED.confirmed_at,
    )
    assert signature == FIXED.confirmation


@pytest.mark.parametrize(
    "fields",
    [
        {"job_id": keccak(b"job-2")},
        {"chain_id": 80002},
        {"escrow": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"},
        {"ticket_ref": "ZD-1043"},
        {"outcome": Outcome.UNRESOLVED},
        {"confirmed_at": 1_750_000_001},
    ],
    ids=lambda fields: next(iter(fields)),
)
def test_confirmation_of_other_fields_recovers_another_signer(fields):
    # The confirmer signed another job (chain, escrow...); the worker pastes it into this job's bundle.
    foreign = make_bundle(**fields).confirmation
    bundle = FIXED.model_copy(update={"confirmation": foreign})
    assert confirmation_signer(bundle) != CONFIRMER


def _with_signature(r: int, s: int, v: int) -> EvidenceBundle:
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
    return FIXED.model_copy(update={"confirmation": "0x" + raw.hex()})


@pytest.mark.parametrize(
    "variant",
    ["v-zero", "high-s-twin", "r-zero", "s-zero"],
)
def test_malformed_signature_is_refused(variant):
    sig = bytes.fromhex(FIXED.confirmation[2:])
    r, s, v = int.from_bytes(sig[:32]), int.from_bytes(sig[32:64]), sig[64]
    bundle = {
        "v-zero": _with_signature(r, s, v - 27),
        "high-s-twin": _with_signature(r, SECP256K1_N - s, 55 - v),  # recovers the same key: malleable
        "r-zero": _with_signature(0, s, v),
        "s-zero": _with_signature(r, 0, v),
    }[variant]
    with pytest.raises(InvalidConfirmation):
        confirmation_signer(bundle)


def test_r_out_of_range_is_refused():
    with pytest.raises(InvalidConfirmation, match="does not recover"):
        confirmation_signer(_with_signature(SECP256K1_N, 1, 27))
