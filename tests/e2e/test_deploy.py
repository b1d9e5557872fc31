"""Deployment: the click group run as a real process against a real anvil, its token checks, and the
contract-size limit (EIP-170) that both the contracts and the test chains must keep."""

import json

import pytest

from devtools.chain import Anvil
from devtools.protocol import run_deploy
from protocol_core.deployment import check_usdc, settlement_token
from protocol_core.errors import DeploymentError

EIP170_LIMIT = 24_576  # bytes of runtime code a contract may have, on Polygon PoS as on Ethereum
DEPLOYABLE = ("JobEscrow", "ArbitrationPool", "VerificationOracle", "WorkerRegistry", "BlockhashRandomness")


@pytest.fixture
def anvil(tmp_path):
    """A standalone anvil on a free loopback port, killed after the test."""
    started = Anvil(tmp_path)
    started.start()
    yield started.url
    started.kill()


def test_deploy_records_addresses_then_reuses_them(anvil, tmp_path):
    deployments = tmp_path / "deployments.json"
    first = run_deploy(anvil, deployments)
    assert first.returncode == 0, first.stderr
    recorded = json.loads(deployments.read_text())["polygon:local"]
    assert set(recorded) >= {"token", "registry", "oracle", "escrow"}

    second = run_deploy(anvil, deployments)
    assert second.returncode == 0, second.stderr
    assert "reusing" in second.stdout
    assert json.loads(deployments.read_text())["polygon:local"] == recorded


def test_live_network_without_usdc_code_is_refused(project, deployer):
    # The local chain has no contract at Amoy's USDC address: a misconfigured RPC must not deploy.
    with pytest.raises(DeploymentError, match="no contract at polygon:amoy's USDC address"):
        settlement_token(project, deployer, "polygon:amoy")


def test_unknown_live_network_is_refused(project, deployer):
    with pytest.raises(DeploymentError, match="no USDC address known"):
        settlement_token(project, deployer, "ethereum:sepolia")


def test_token_that_is_not_usdc_is_refused(project, deployer):
    impostor = deployer.deploy(project.TestReentrantToken)
    with pytest.raises(DeploymentError, match="expected 'USDC' with 6"):
        check_usdc(impostor, "polygon:local")


def test_local_network_gets_a_fresh_test_usdc(project, deployer):
    token = settlement_token(project, deployer, "polygon:local")
    assert (token.symbol(), token.decimals()) == ("USDC", 6)


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_deployable_contract_fits_the_eip170_limit(project, name):
    size = len(bytes.fromhex(project.get_contract(name).contract_type.runtime_bytecode.bytecode[2:]))
    assert size <= EIP170_LIMIT, f"{name} is {size} bytes of runtime code, over EIP-170's {EIP170_LIMIT}"


@pytest.mark.parametrize(("size", "deploys"), [(EIP170_LIMIT, True), (EIP170_LIMIT + 1, False)])
def test_test_chain_refuses_code_over_the_eip170_limit(chain, deployer, size, deploys):
    # Creation code that returns `size` zero bytes: PUSH3 size, PUSH1 0, RETURN. Sent raw, with its
    # own gas, so that no estimate stops it before the chain decides.
    initcode = b"\x62" + size.to_bytes(3, "big") + b"\x60\x00\xf3"
    web3 = chain.provider.web3
    tx_hash = web3.eth.send_transaction({"from": str(deployer.address), "data": initcode, "gas": 10_000_000})
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt.status == int(deploys)
    assert len(web3.eth.get_code(receipt.contractAddress)) == (size if deploys else 0)
