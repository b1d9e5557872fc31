"""Deployment: the click group run as a real process against a real anvil, and its token checks."""

import json

import pytest

from devtools.chain import Anvil
from devtools.protocol import run_deploy
from protocol_core.deployment import check_usdc, settlement_token
from protocol_core.errors import DeploymentError


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
