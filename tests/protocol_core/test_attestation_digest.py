"""The direct attestation digest is the generic EIP-712 encoding's, and signs and recovers alike."""

import os

import pytest
from eth_account import Account

from protocol_core.attestation_digest import attestation_digest, recover_digest, sign_digest
from protocol_core.eip712 import InvalidSignature, attestation_message, digest, recover_compact


@pytest.mark.parametrize("approve,reason,set_nonce", [(True, 0, 1), (False, 8, 7), (False, 255, 2**64 - 1)])
def test_direct_digest_equals_the_typed_data_encoding(approve, reason, set_nonce):
    fields = dict(
        chain_id=31337,
        oracle=Account.create().address,
        job_id=os.urandom(32),
        evidence_hash=os.urandom(32),
        approve=approve,
        reason=reason,
        set_nonce=set_nonce,
    )
    assert attestation_digest(**fields) == digest(attestation_message(**fields))
    key = Account.create()
    signature = sign_digest(bytes(key.key), attestation_digest(**fields))
    assert recover_digest(attestation_digest(**fields), signature) == key.address
    assert recover_compact(attestation_message(**fields), signature) == key.address  # as the contract sees it
    other = attestation_digest(**{**fields, "approve": not approve})
    assert recover_digest(other, signature) != key.address
    with pytest.raises(InvalidSignature):
        recover_digest(other, [signature[0], b"\xff" * 32])  # high s
