"""Job terms: the Python encoding and the on-chain job id can never drift apart."""

import pydantic
import pytest
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol_core.terms import ZERO_ADDRESS, JobTerms, Requirements

# Each example only calls the pure `jobIdOf`, so sharing the per-test snapshot is safe.
settings.register_profile(
    "chain-views",
    deadline=None,
    max_examples=15,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

FIXED = JobTerms(
    agent="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    reward=40_000_000,
    confirmer="0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    oracle_fee=500_000,
    protocol_fee=400_000,
    offered_to="0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    accept_by=1_750_000_000,
    resolve_by=1_750_086_400,
    challenge_window=86_400,
    spec_hash=bytes(range(32)),
    requirements=Requirements(language=2, expertise=0b1011, certifications=0b1),
)
FIXED_DIGEST = bytes.fromhex("3c8c54e31bcf16944cb18a987c095bdeed585f0112d15c4c8ba5395dbbd9b157")


def _uint(bits):
    return st.integers(min_value=0, max_value=2**bits - 1)


addresses = st.binary(min_size=20, max_size=20).map(lambda raw: to_checksum_address(raw))
terms_strategy = st.builds(
    JobTerms,
    agent=addresses,
    reward=_uint(96),
    confirmer=addresses,
    oracle_fee=_uint(64),
    protocol_fee=_uint(64),
    offered_to=addresses,
    accept_by=_uint(40),
    resolve_by=_uint(40),
    challenge_window=_uint(32),
    spec_hash=st.binary(min_size=32, max_size=32),
    requirements=st.builds(Requirements, language=_uint(8), expertise=_uint(64), certifications=_uint(32)),
)


@settings(settings.get_profile("chain-views"))
@given(terms=terms_strategy)
def test_digest_equals_on_chain_job_id(escrow, terms):
    assert escrow.jobIdOf(terms.as_abi()) == terms.digest()


def test_digest_of_fixed_terms_is_pinned(escrow):
    assert FIXED.digest() == FIXED_DIGEST
    assert escrow.jobIdOf(FIXED.as_abi()) == FIXED_DIGEST


def test_digest_is_keccak_of_thirteen_flat_words():
    # A static struct ABI-encodes in place: no offsets, the nested requirements inline.
    words = [
        int(FIXED.agent, 16),
        FIXED.reward,
        int(FIXED.confirmer, 16),
        FIXED.oracle_fee,
        FIXED.protocol_fee,
        int(FIXED.offered_to, 16),
        FIXED.accept_by,
        FIXED.resolve_by,
        FIXED.challenge_window,
        int.from_bytes(FIXED.spec_hash, "big"),
        2,
        0b1011,
        0b1,
    ]
    assert keccak(b"".join(w.to_bytes(32, "big") for w in words)) == FIXED_DIGEST


def test_digest_changes_with_every_field():
    changes = {
        "agent": ZERO_ADDRESS,
        "reward": FIXED.reward + 1,
        "confirmer": ZERO_ADDRESS,
        "oracle_fee": FIXED.oracle_fee + 1,
        "protocol_fee": FIXED.protocol_fee + 1,
        "offered_to": ZERO_ADDRESS,
        "accept_by": FIXED.accept_by + 1,
        "resolve_by": FIXED.resolve_by + 1,
        "challenge_window": FIXED.challenge_window + 1,
        "spec_hash": b"\x01" * 32,
        "requirements": Requirements(language=2, expertise=0b1011, certifications=0b11),
    }
    assert set(changes) == set(JobTerms.model_fields)
    digests = {FIXED.model_copy(update={name: value}).digest() for name, value in changes.items()}
    assert len(digests) == len(changes) and FIXED_DIGEST not in digests


def test_terms_checksum_addresses_and_accept_hex_spec_hash():
    terms = JobTerms(
        **{
            **FIXED.model_dump(),
            "agent": FIXED.agent.lower(),
            "spec_hash": "0x" + FIXED.spec_hash.hex(),
        }
    )

    assert terms.agent == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert terms == FIXED
    assert terms.digest() == FIXED_DIGEST


def test_terms_reject_spec_hash_of_wrong_length():
    with pytest.raises(pydantic.ValidationError, match="spec_hash must be 32 bytes, got 31"):
        JobTerms(**{**FIXED.model_dump(), "spec_hash": b"\x00" * 31})


def test_terms_reject_unknown_fields_and_mutation():
    with pytest.raises(pydantic.ValidationError):
        JobTerms(**FIXED.model_dump(), tip=1)
    with pytest.raises(pydantic.ValidationError):
        FIXED.reward = 1


def test_total_is_what_posting_pulls():
    assert FIXED.total == 40_000_000 + 500_000 + 400_000


def test_from_event_rebuilds_terms_from_a_dict():
    raw = {
        "agent": FIXED.agent,
        "reward": FIXED.reward,
        "confirmer": FIXED.confirmer,
        "oracleFee": FIXED.oracle_fee,
        "protocolFee": FIXED.protocol_fee,
        "offeredTo": FIXED.offered_to,
        "acceptBy": FIXED.accept_by,
        "resolveBy": FIXED.resolve_by,
        "challengeWindow": FIXED.challenge_window,
        "specHash": FIXED.spec_hash,
        "requirements": {"language": 2, "expertise": 0b1011, "certifications": 0b1},
    }

    assert JobTerms.from_event(raw) == FIXED


def test_from_event_rebuilds_terms_from_decoded_job_posted(escrow, agent, make_terms):
    terms = make_terms(offered_to="0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", challenge_window=60)
    tx = escrow.postJob(terms.as_abi(), sender=agent)
    (posted,) = tx.decode_logs(escrow.JobPosted)

    # What an indexer does: rebuild the terms from the event, then act on the job with them.
    rebuilt = JobTerms.from_event(posted.terms)

    assert rebuilt == terms
    assert rebuilt.digest() == posted.jobId
