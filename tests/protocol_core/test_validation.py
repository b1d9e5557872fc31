"""Checks of typed input, the network a chain id names, and an unreadable deployments file."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol_core.deployment import is_local, load_deployments, network_for_chain
from protocol_core.errors import DeploymentError
from protocol_core.validation import (
    InvalidInput,
    address,
    bits,
    bytes32,
    format_amount,
    rpc_url,
    token_amount,
)

CHECKSUMMED = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_address_accepts_checksummed_and_lower_case_and_returns_the_checksum():
    assert address(CHECKSUMMED, "X") == CHECKSUMMED
    assert address(CHECKSUMMED.lower(), "X") == CHECKSUMMED


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0x1234", "X: '0x1234' is not an address"),
        ("treasury", "is not an address"),
        ("0x70997970c51812dc3a010c7d01b50e0d17dc79C8", "wrong EIP-55 checksum"),
        ("0x" + "0" * 40, "the zero address"),
    ],
)
def test_address_refuses(value, expected):
    with pytest.raises(InvalidInput, match=expected):
        address(value, "X")


@pytest.mark.parametrize(
    ("text", "units"), [("100", 100_000_000), ("0.5", 500_000), ("1_000", 10**9), ("0", 0)]
)
def test_token_amount_in_units(text, units):
    assert token_amount(text, "A") == units


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-1", "positive"), ("1.0000001", "more than 6 decimals"), ("ten", "not a number"), ("nan", "positive")],
)
def test_token_amount_refuses(text, expected):
    with pytest.raises(InvalidInput, match=expected):
        token_amount(text, "A")


@given(st.integers(min_value=0, max_value=10**30))
def test_format_amount_round_trips(units):
    assert token_amount(format_amount(units), "A") == units


def test_bits_in_three_spellings_and_bounded():
    assert bits("5", "B", 32) == bits("0b101", "B", 32) == bits("bit:0,2", "B", 32) == 5
    with pytest.raises(InvalidInput, match="outside"):
        bits("bit:32", "B", 32)
    with pytest.raises(InvalidInput, match="not a bit mask"):
        bits("en", "B", 32)


def test_bytes32_and_rpc_url():
    assert bytes32("0x" + "11" * 32, "K") == b"\x11" * 32
    with pytest.raises(InvalidInput, match="must not be zero"):
        bytes32("0x" + "00" * 32, "K")
    with pytest.raises(InvalidInput, match="no RPC: pass --rpc-url"):
        rpc_url(None)
    with pytest.raises(InvalidInput, match="not an http"):
        rpc_url("ws://127.0.0.1:8545")


@pytest.mark.parametrize(
    ("chain_id", "dev_node", "network"),
    [
        (137, False, "polygon:mainnet"),
        (80002, False, "polygon:amoy"),
        (137, True, "polygon:mainnet-fork"),
        (80002, True, "polygon:amoy-fork"),
        (31337, True, "polygon:local"),
        (1337, True, "polygon:local"),
    ],
)
def test_a_chain_id_names_its_network(chain_id, dev_node, network):
    assert network_for_chain(chain_id, dev_node) == network


def test_an_unknown_live_chain_is_refused_and_forks_are_local():
    with pytest.raises(DeploymentError, match="chain id 1 is not a supported network"):
        network_for_chain(1, dev_node=False)
    assert is_local("polygon:amoy-fork") and is_local("polygon:local") and not is_local("polygon:amoy")


def test_an_unreadable_deployments_file_is_one_deployment_error(tmp_path):
    path = tmp_path / "deployments.json"
    for content in (
        '{"polygon:local": {"token": ',
        '["not", "a", "map"]',
        '{"polygon:local": {"colour": 1}}',
    ):
        path.write_text(content)
        with pytest.raises(DeploymentError, match="is not a readable deployments file"):
            load_deployments(path)
