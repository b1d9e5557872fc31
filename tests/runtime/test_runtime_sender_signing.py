"""The sender's own EIP-1559 encoding is eth_account's, byte for byte, and the chain takes it."""

from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.sender import Sender

KEY = Account.from_key(b"\x07" * 32)


def sender(chain_id: int) -> Sender:
    signer = Sender(None, None, KEY, None, None)  # type: ignore[arg-type]  # sign() uses the key only
    signer._chain_id = chain_id
    return signer


@settings(max_examples=150, deadline=None)
@given(
    chain_id=st.integers(1, 2**64 - 1),
    nonce=st.integers(0, 2**64 - 2),
    to=st.binary(min_size=20, max_size=20),
    data=st.binary(max_size=600),
    gas=st.integers(21_000, 2**63),
    max_fee=st.integers(0, 2**200),
    priority=st.integers(0, 2**200),
)
def test_signed_bytes_and_hash_are_eth_accounts(chain_id, nonce, to, data, gas, max_fee, priority):
    address = Account.create().address[:2] + to.hex()  # any case: the sender takes what the reads give
    raw, tx_hash = sender(chain_id).sign(nonce, address, data, gas, max_fee, priority)
    generic = KEY.sign_transaction(
        {
            "type": 2,
            "chainId": chain_id,
            "nonce": nonce,
            "to": bytes(to),
            "data": data,
            "gas": gas,
            "value": 0,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": priority,
        }
    )
    assert raw == bytes(generic.raw_transaction)
    assert tx_hash == "0x" + bytes(generic.hash).hex()
    assert Account.recover_transaction(raw) == KEY.address
