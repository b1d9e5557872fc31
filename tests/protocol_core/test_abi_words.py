"""The word-by-word encoders are the generic ones (eth_abi, eth_account), for every struct the protocol
hashes, and refuse what those refuse; signing and recovery agree with eth_account's. (The terms'
digest is pinned to the escrow's own `jobIdOf` by tests/protocol_core/test_terms.py.)"""

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol_core import eip712
from protocol_core.abi_words import checksum, encode_static, recover_hash, sign_hash, uint_word
from protocol_core.attestation_digest import attestation_digest
from protocol_core.terms import JobTerms, Requirements

addresses = st.binary(min_size=20, max_size=20).map(lambda raw: to_checksum_address(raw))
words = st.binary(min_size=32, max_size=32)


def uints(bits: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, 2**bits - 1), st.sampled_from([0, 1, 2**bits - 1]))


@pytest.mark.parametrize("field,value", [("reward", 2**96), ("accept_by", 2**40), ("reward", -1)])
def test_a_terms_field_out_of_its_abi_range_is_refused(field, value):
    job = JobTerms(
        agent=Account.create().address,
        reward=1,
        oracle_fee=0,
        protocol_fee=0,
        accept_by=1,
        resolve_by=2,
        spec_hash=bytes(32),
        requirements=Requirements(language=0),
    ).model_copy(update={field: value})
    with pytest.raises(ValueError, match="is not a uint"):
        job.digest()


# Each message as eth_account's generic encoder builds it, against the word-by-word one in eip712.
MESSAGES = {
    "attestation": (
        eip712.ATTESTATION_DOMAIN,
        eip712.ATTESTATION_TYPES,
        st.fixed_dictionaries(
            {
                "jobId": words,
                "evidenceHash": words,
                "approve": st.booleans(),
                "reason": uints(8),
                "setNonce": uints(64),
            }
        ),
    ),
    "evidence": (
        eip712.ESCROW_DOMAIN,
        eip712.EVIDENCE_TYPES,
        st.fixed_dictionaries(
            {"jobId": words, "evidenceHash": words, "uri": st.text(max_size=80), "deadline": uints(256)}
        ),
    ),
    "acceptance": (
        eip712.ESCROW_DOMAIN,
        eip712.ACCEPTANCE_TYPES,
        st.fixed_dictionaries({"jobId": words, "worker": addresses, "deadline": uints(256)}),
    ),
    "confirmation": (
        eip712.CONFIRMATION_DOMAIN,
        eip712.CONFIRMATION_TYPES,
        st.fixed_dictionaries(
            {"jobId": words, "ticketRef": st.text(max_size=40), "outcome": uints(8), "confirmedAt": uints(64)}
        ),
    ),
    "registration": (
        eip712.REGISTRY_DOMAIN,
        eip712.REGISTRATION_TYPES,
        st.fixed_dictionaries(
            {
                "worker": addresses,
                "languages": uints(64),
                "expertise": uints(64),
                "maxConcurrent": uints(8),
                "encryptionKey": words,
                "profileURI": st.text(max_size=60),
                "nonce": uints(256),
                "deadline": uints(256),
            }
        ),
    ),
    "permit": (
        ("USD Coin", "2"),
        eip712.PERMIT_TYPES,
        st.fixed_dictionaries(
            {
                "owner": addresses,
                "spender": addresses,
                "value": uints(256),
                "nonce": uints(256),
                "deadline": uints(256),
            }
        ),
    ),
}


@pytest.mark.parametrize("kind", sorted(MESSAGES))
@settings(max_examples=60, deadline=None)
@given(data=st.data(), chain_id=uints(64), contract=addresses)
def test_each_typed_message_is_eth_accounts_encoding(kind, data, chain_id, contract):
    domain, types, messages = MESSAGES[kind]
    message = data.draw(messages)
    name, version = domain
    generic = encode_typed_data(
        domain_data={"name": name, "version": version, "chainId": chain_id, "verifyingContract": contract},
        message_types=types,
        message_data=message,
    )
    ours = eip712._typed(domain, chain_id, contract.lower(), types, message)
    assert eip712.digest(ours) == eip712.digest(generic)


@pytest.mark.parametrize(
    "types,message",
    [
        (eip712.ACCEPTANCE_TYPES, {"jobId": bytes(31), "worker": "0x" + "11" * 20, "deadline": 1}),
        (eip712.ACCEPTANCE_TYPES, {"jobId": bytes(32), "worker": "0x1234", "deadline": 1}),
        (eip712.ACCEPTANCE_TYPES, {"jobId": bytes(32), "worker": "0x" + "11" * 20, "deadline": -1}),
        (eip712.ATTESTATION_TYPES, {"jobId": bytes(32), "evidenceHash": bytes(32), "approve": 1}),
        (eip712.CONFIRMATION_TYPES, {"jobId": bytes(32), "ticketRef": 7, "outcome": 0, "confirmedAt": 0}),
    ],
)
def test_a_malformed_member_is_refused(types, message):
    with pytest.raises((ValueError, KeyError)):
        eip712._typed(eip712.ESCROW_DOMAIN, 1, "0x" + "22" * 20, types, message)


@settings(max_examples=40, deadline=None)
@given(digest=words, seed=st.integers(1, 2**64))
def test_signing_and_recovery_agree_with_eth_account(digest, seed):
    key = Account.from_key(seed.to_bytes(32, "big"))
    v, r, s = sign_hash(bytes(key.key), digest)
    assert s <= eip712.SECP256K1_HALF_N  # low s, as the contracts require
    assert (v, r, s) == (lambda sig: (sig.v, sig.r, sig.s))(key.unsafe_sign_hash(digest))
    assert recover_hash(digest, v, r, s) == key.address
    assert recover_hash(digest, 55 - v, r, s) != key.address  # the other parity is another signer


def test_recovery_of_garbage_is_a_value_error_and_checksums_are_eip55():
    with pytest.raises(ValueError):
        recover_hash(bytes(32), 29, 1, 1)
    with pytest.raises(Exception):  # noqa: B017 (coincurve: not a point on the curve)
        recover_hash(bytes(32), 27, 2**256 - 1, 1)
    assert checksum("0x" + "ab" * 20) == to_checksum_address("0x" + "ab" * 20)
    with pytest.raises(ValueError):
        checksum("0x1234")
    with pytest.raises(ValueError, match="uint8"):
        uint_word(256, 8)
    assert encode_static(["address", "bool"], ["0x" + "01" * 20, True]) == encode(
        ["address", "bool"], ["0x" + "01" * 20, True]
    )


def test_the_attestation_digest_is_the_generic_typed_data_one():
    fields = dict(job_id=b"\x01" * 32, evidence_hash=b"\x02" * 32, approve=True, reason=3, set_nonce=9)
    generic = encode_typed_data(
        domain_data={
            "name": eip712.ATTESTATION_DOMAIN[0],
            "version": eip712.ATTESTATION_DOMAIN[1],
            "chainId": 137,
            "verifyingContract": "0x" + "33" * 20,
        },
        message_types=eip712.ATTESTATION_TYPES,
        message_data={
            "jobId": fields["job_id"],
            "evidenceHash": fields["evidence_hash"],
            "approve": True,
            "reason": 3,
            "setNonce": 9,
        },
    )
    assert attestation_digest(chain_id=137, oracle="0x" + "33" * 20, **fields) == eip712.digest(generic)
