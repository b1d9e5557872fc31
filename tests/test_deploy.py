"""Deployment: the click group run as a real process against a real anvil, and its token checks."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from protocol_core.deployment import check_usdc, settlement_token
from protocol_core.errors import DeploymentError

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def anvil():
    """A standalone anvil on a free loopback port, killed after the test."""
    port = _free_port()
    proc = subprocess.Popen(
        ["anvil", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in proc.stdout:  # anvil prints this once it accepts connections
        if "Listening on" in line:
            break
    yield f"http://127.0.0.1:{port}"
    proc.kill()
    proc.wait()


def _deploy(rpc: str, deployments: Path) -> subprocess.CompletedProcess:
    # ape-foundry connects to an anvil already listening at APE_FOUNDRY_HOST instead of starting one.
    return subprocess.run(
        [str(Path(sys.executable).with_name("ape")), "run", "deploy", "system",
         "--network", "polygon:local:foundry", "--account", "TEST::0",
         "--deployments-file", str(deployments)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "APE_FOUNDRY_HOST": rpc},
    )  # fmt: skip


def test_deploy_records_addresses_then_reuses_them(anvil, tmp_path):
    deployments = tmp_path / "deployments.json"
    first = _deploy(anvil, deployments)
    assert first.returncode == 0, first.stderr
    recorded = json.loads(deployments.read_text())["polygon:local"]
    assert set(recorded) >= {"token", "registry", "oracle", "escrow"}

    second = _deploy(anvil, deployments)
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
