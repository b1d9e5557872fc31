"""A local fork of Polygon or Amoy, started by hand: the deploy names the network by its chain id, uses
the USDC at the real address, and an oracle node pays a job on it.

The upstream is a local anvil with Amoy's (or Polygon's) chain id and a USDC-like token placed at
the real USDC address; the fork is a second anvil started with --fork-url, as an operator would.
"""

import pytest

from devtools.accounts import AGENT, DEPLOYER, OPERATORS, WORKERS, address_of, key_of, write_keystore
from devtools.chain import Anvil, place_contract, wait_for
from devtools.oracle_nodes import OracleNode
from devtools.protocol import Protocol, run_deploy, run_ops
from devtools.system import X25519_PLACEHOLDER
from protocol_core.deployment import USDC_BY_NETWORK, load_deployments
from protocol_core.enums import JobStatus

from .cli_helpers import nonce, one_line_error

OPERATOR, WORKER = OPERATORS[0], WORKERS[0]


@pytest.fixture
def chains(project, tmp_path):
    """Starts an upstream with a chain id and, when asked, USDC at that network's address; then its fork."""
    started: list[Anvil] = []

    def start(chain_id: int, usdc_at: str | None, block_time: int | None = None) -> Anvil:
        upstream = Anvil(tmp_path, chain_id=chain_id, name="upstream")
        upstream.start()
        started.append(upstream)
        if usdc_at is not None:
            place_contract(upstream.url, project.TestUSDC.contract_type.deployment_bytecode.bytecode, usdc_at)
        fork = Anvil(tmp_path, fork_url=upstream.url, block_time=block_time, name="fork")
        fork.start()
        started.append(fork)
        return fork

    yield start
    for chain in reversed(started):
        chain.kill()


def test_fork_of_amoy_with_a_block_time_deploys_on_real_usdc_and_a_node_pays_a_job(chains, tmp_path):
    usdc = USDC_BY_NETWORK["polygon:amoy"]
    fork = chains(80002, usdc, block_time=1)
    deployments, evidence = tmp_path / "deployments.json", tmp_path / "evidence"

    result = run_deploy(fork.url, deployments)
    assert result.returncode == 0, result.stderr + result.stdout
    assert f"using RPC {fork.url} (anvil, chain id 80002: polygon:amoy-fork)" in result.stdout
    addresses = load_deployments(deployments)["polygon:amoy-fork"]
    assert addresses.token == usdc

    protocol = Protocol.connect(fork.url, addresses, evidence)
    assert protocol.contracts["JobEscrow"].functions.token().call() == usdc
    _set_up_one_operator(protocol)
    write_keystore(tmp_path / "ape", "op", key_of(OPERATOR))
    network = "polygon:amoy-fork:foundry"  # the node reads the deployment recorded for the fork
    node = OracleNode(tmp_path, fork.url, deployments, "op", evidence=evidence, network=network)
    node.start(wait="/readyz")
    try:
        job = protocol.post(WORKER)
        protocol.submit(job)
        wait_for(lambda: protocol.status(job) == JobStatus.PAID, 60, "the job to be paid on the fork")
    finally:
        node.stop()


def test_fork_of_polygon_deploys_on_native_usdc_and_refuses_the_test_faucet(chains, tmp_path):
    usdc = USDC_BY_NETWORK["polygon:mainnet"]
    fork = chains(137, usdc)
    deployments = tmp_path / "deployments.json"
    result = run_deploy(fork.url, deployments)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "chain id 137: polygon:mainnet-fork" in result.stdout
    assert load_deployments(deployments)["polygon:mainnet-fork"].token == usdc

    minted = run_ops(fork.url, deployments, "token", "mint", address_of(DEPLOYER), "1", account="TEST::0")
    one_line_error(minted, "token mint works only with the test USDC of polygon:local")


def test_fork_without_usdc_at_the_real_address_is_refused_before_any_transaction(chains, tmp_path):
    fork = chains(80002, None)
    deployments = tmp_path / "deployments.json"
    one_line_error(run_deploy(fork.url, deployments), "no contract at polygon:amoy's USDC address")
    assert nonce(fork.url, address_of(DEPLOYER)) == 0
    assert not deployments.exists()


def _set_up_one_operator(protocol: Protocol) -> None:
    """One staked operator and a quorum of one, one registered worker, a funded agent (few blocks)."""
    oracle = protocol.contracts["VerificationOracle"]
    stake = oracle.functions.minStake().call()
    protocol.send("VerificationOracle", "addOperator", protocol.account(OPERATOR), sender=DEPLOYER)
    protocol.send("VerificationOracle", "setQuorum", 1, sender=DEPLOYER)
    protocol.send("TestUSDC", "mint", protocol.account(OPERATOR), stake, sender=OPERATOR)
    protocol.send("TestUSDC", "approve", oracle.address, stake, sender=OPERATOR)
    protocol.send("VerificationOracle", "stake", stake, sender=OPERATOR)
    protocol.send("WorkerRegistry", "register", 0b1, 0b1, 2, X25519_PLACEHOLDER, "ipfs://w", sender=WORKER)
    protocol.send("TestUSDC", "mint", protocol.account(AGENT), 10**9, sender=AGENT)
    protocol.send("TestUSDC", "approve", protocol.addresses.escrow, 2**256 - 1, sender=AGENT)
