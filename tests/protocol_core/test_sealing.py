"""Sealing: only the recipient's key opens, only the agent's signature passes, any change is refused."""

import base64
import json

import pytest
from eth_account import Account
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey

from protocol_core.context import ContextError
from protocol_core.sealing import (
    MalformedSeal,
    SealedEnvelope,
    SealError,
    TamperedSeal,
    WrongKey,
    open_context,
    open_sealed,
    seal,
)
from tests.protocol_core.test_context_bundle import FIXED

AGENT = Account.from_key(keccak(b"agent"))
STRANGER = Account.from_key(keccak(b"stranger"))
WORKER_ADDRESS = Account.from_key(keccak(b"worker")).address
WORKER_KEY = PrivateKey(keccak(b"worker x25519"))
OTHER_KEY = PrivateKey(keccak(b"other x25519"))
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PROFILE = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])


def sealed(payload=None, signer=AGENT, key=WORKER_KEY, kind="context"):
    return seal(
        FIXED.canonical() if payload is None else payload, kind=kind, signer=signer,
        sender=signer.address, recipient=WORKER_ADDRESS, recipient_key=bytes(key.public_key),
        chain_id=137, escrow=ESCROW,
    )  # fmt: skip


def test_recipient_opens_and_checks_the_spec_hash():
    envelope = sealed()
    bundle = open_context(envelope.canonical(), WORKER_KEY, agent=AGENT.address, spec_hash=FIXED.spec_hash())
    assert bundle == FIXED
    assert SealedEnvelope.parse(envelope.canonical()) == envelope
    assert FIXED.canonical() not in envelope.canonical()


def test_wrong_key_cannot_open():
    with pytest.raises(WrongKey, match="only that key can open it"):
        open_sealed(sealed(), OTHER_KEY, expected_sender=AGENT.address)
    # Even with the header rewritten to the other key, the signature no longer matches.
    forged = sealed().model_copy(update={"recipient_key": "0x" + bytes(OTHER_KEY.public_key).hex()})
    with pytest.raises(TamperedSeal, match="altered after sealing"):
        open_sealed(forged, OTHER_KEY, expected_sender=AGENT.address)


def test_signature_by_another_key_is_refused():
    with pytest.raises(TamperedSeal, match=f"recovers {STRANGER.address}, not the sender"):
        open_sealed(sealed(signer=STRANGER), WORKER_KEY, expected_sender=AGENT.address)


def test_spec_hash_of_another_job_is_refused():
    with pytest.raises(ContextError, match="not the context this job was posted with"):
        open_context(sealed(), WORKER_KEY, agent=AGENT.address, spec_hash=keccak(b"other"))


def test_kind_is_checked_and_garbage_is_malformed():
    with pytest.raises(TamperedSeal, match="'evidence' payload"):
        open_context(sealed(kind="evidence"), WORKER_KEY, agent=AGENT.address)
    with pytest.raises(MalformedSeal):
        open_sealed(b"not json", WORKER_KEY, expected_sender=AGENT.address)


def test_seal_refuses_a_placeholder_key():
    with pytest.raises(SealError, match="32 non-zero bytes"):
        seal(b"x", kind="context", signer=AGENT, sender=AGENT.address, recipient=WORKER_ADDRESS,
             recipient_key=bytes(32), chain_id=137, escrow=ESCROW)  # fmt: skip


@PROFILE
@given(payload=st.binary(max_size=2_000))
def test_round_trip_of_any_payload(payload):
    assert open_sealed(sealed(payload, kind="evidence"), WORKER_KEY, expected_sender=AGENT.address) == payload


@PROFILE
@given(data=st.data())
def test_any_change_to_the_envelope_is_refused(data):
    envelope = sealed(b"the case file")
    document = json.loads(envelope.canonical())
    field = data.draw(st.sampled_from(["ciphertext", "payload_hash", "chain_id", "escrow", "recipient",
                                       "signature", "kind"]))  # fmt: skip
    if field == "ciphertext":
        raw = bytearray(base64.b64decode(document["ciphertext"]))
        index = data.draw(st.integers(0, len(raw) - 1))
        raw[index] ^= data.draw(st.integers(1, 255))
        document["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    elif field == "payload_hash":
        document["payload_hash"] = "0x" + keccak(data.draw(st.binary(max_size=8))).hex()
    elif field == "chain_id":
        document["chain_id"] = data.draw(st.integers(1, 2**64).filter(lambda v: v != 137))
    elif field in ("escrow", "recipient"):
        document[field] = Account.from_key(keccak(data.draw(st.binary(min_size=1)))).address
    elif field == "signature":
        document["signature"] = sealed(b"another").signature
    else:
        document["kind"] = "case"
    with pytest.raises(SealError):
        open_sealed(json.dumps(document).encode(), WORKER_KEY, expected_sender=AGENT.address)
