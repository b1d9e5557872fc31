"""Deployment: the click group run as a real process against a real anvil, its token checks, and the
contract-size limit (EIP-170) that both the contracts and the test chains must keep."""

import json
import socket

import pytest

from devtools.chain import Anvil, free_port, rpc_call
from devtools.protocol import run_ape, run_deploy
from protocol_core.deployment import check_usdc, load_deployments, settlement_token
from protocol_core.errors import DeploymentError

from .cli_helpers import one_line_error

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


def test_old_invocation_without_an_rpc_records_nothing(tmp_path):
    # Before: ape-foundry started a throwaway anvil, deployed to it, exited 0 and recorded addresses
    # that pointed at nothing once it had stopped the chain again.
    deployments = tmp_path / "deployments.json"
    result = run_ape(
        "run", "deploy", "system", "--network", "polygon:local:foundry", "--account", "TEST::0",
        "--deployments-file", str(deployments), env={"ESCALATION_RPC_URL": ""},
    )  # fmt: skip
    one_line_error(result, "no RPC: pass --rpc-url URL (a local anvil listens on http://127.0.0.1:8545)")
    assert not deployments.exists()


def test_rpc_where_nothing_listens_is_refused_and_no_chain_is_started(tmp_path):
    port = free_port()
    deployments = tmp_path / "deployments.json"
    one_line_error(
        run_deploy(f"http://127.0.0.1:{port}", deployments), f"no chain answers at http://127.0.0.1:{port}"
    )
    assert not deployments.exists()
    with socket.socket() as probe:  # nobody started an anvil on the port instead
        probe.bind(("127.0.0.1", port))


def test_show_says_when_the_recorded_contracts_have_no_code_on_the_chain(anvil, tmp_path):
    deployments = tmp_path / "deployments.json"
    assert run_deploy(anvil, deployments).returncode == 0
    shown = run_ape("run", "deploy", "show", "--rpc-url", anvil, "--deployments-file", str(deployments))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("code ok") == 6

    restarted = Anvil(tmp_path, name="restarted")  # a fresh chain with the same chain id starts empty
    restarted.start()
    try:
        show = ("run", "deploy", "show", "--rpc-url", restarted.url, "--deployments-file", str(deployments))
        result = run_ape(*show)
    finally:
        restarted.kill()
    one_line_error(result, f"have no code on the chain at {restarted.url}")
    assert result.stdout.count("NO CODE") == 6


def test_deploy_on_an_anvil_that_mines_on_a_timer(tmp_path):
    # ape-foundry took such an anvil for a manually mined one: "did not create a contract".
    timed = Anvil(tmp_path, name="timed", block_time=1)
    timed.start()
    try:
        deployments = tmp_path / "deployments.json"
        result = run_deploy(timed.url, deployments)
        assert result.returncode == 0, result.stderr + result.stdout
        escrow = load_deployments(deployments)["polygon:local"].escrow
        assert rpc_call(timed.url, "eth_getCode", escrow, "latest") != "0x"
    finally:
        timed.kill()


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
