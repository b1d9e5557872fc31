"""A node whose key cannot attest says so (/readyz, metrics, an ERROR line) and sees a top-up in seconds."""

import httpx
import pytest

from devtools.accounts import DEPLOYER, OPERATORS, WORKERS, key_of, write_keystore
from devtools.chain import wait_for
from devtools.oracle_nodes import OracleNode
from devtools.protocol import Protocol

pytestmark = pytest.mark.usefixtures("redis_server", "postgres_url")  # see test_oracle_node.py


@pytest.fixture
def protocol(tmp_path, deployed_anvil, deployed_state):
    return Protocol.connect(deployed_anvil.url, deployed_state.addresses, tmp_path / "evidence")


def _readyz(node: OracleNode) -> tuple[int, str]:
    answer = httpx.get(f"http://127.0.0.1:{node.metrics_port}/readyz")
    return answer.status_code, answer.text


def _metric(node: OracleNode, name: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{node.metrics_port}/metrics").text
    line = next(line for line in text.splitlines() if line.startswith(f"oracle_node_{name} "))
    return float(line.split()[1])


def test_stake_below_minimum_is_reported_and_a_top_up_is_noticed_in_seconds(
    tmp_path, deployed_anvil, protocol
):
    op = OPERATORS[0]
    write_keystore(tmp_path / "ape", "op", key_of(op))
    node = OracleNode(tmp_path, deployed_anvil.url, tmp_path / "deployments.json", "op").start("/readyz")
    try:
        min_stake = protocol.contracts["VerificationOracle"].functions.minStake().call()
        assert _metric(node, "operator_stake") == min_stake

        protocol.send("VerificationOracle", "requestUnstake", 1, sender=op)  # as after a slash
        wait_for(lambda: _readyz(node)[0] == 503, timeout=10, what="/readyz to say not ready")
        assert "below minStake" in _readyz(node)[1] and "stake at least 1 more" in _readyz(node)[1]
        assert _metric(node, "operator_stake") == min_stake - 1
        assert _metric(node, "operator_can_attest") == 0
        assert '"level": "ERROR"' in node.log() and "cannot attest" in node.log()
        job = protocol.post(WORKERS[0])
        protocol.submit(job)  # waits until the stake is back

        oracle = protocol.contracts["VerificationOracle"].address
        protocol.send("TestUSDC", "mint", protocol.account(op), 1, sender=op)
        protocol.send("TestUSDC", "approve", oracle, 1, sender=op)
        protocol.send("VerificationOracle", "stake", 1, sender=op)
        wait_for(lambda: _readyz(node)[0] == 200, timeout=8, what="the top-up to be noticed")
        assert _metric(node, "operator_can_attest") == 1
        # The evidence that waited is verified and its attestation signed (that it then lands although
        # the top-up used the key's next nonces is issue 9 item 10's test).
        signed = "SELECT count(*) FROM attestations"
        wait_for(lambda: node.scalar(signed) == 1, timeout=30, what="the waiting evidence attested")
    finally:
        node.kill()


def test_key_outside_the_operator_set_is_not_ready_and_says_why(tmp_path, deployed_anvil, protocol):
    write_keystore(tmp_path / "ape", "worker", key_of(WORKERS[0]))
    write_keystore(tmp_path / "ape", "op", key_of(OPERATORS[1]))
    deployments = tmp_path / "deployments.json"
    stranger = OracleNode(tmp_path, deployed_anvil.url, deployments, "worker").start()
    removed = OracleNode(tmp_path, deployed_anvil.url, deployments, "op").start("/readyz")
    try:
        protocol.send("VerificationOracle", "removeOperator", protocol.account(OPERATORS[1]), sender=DEPLOYER)
        for node in (stranger, removed):
            wait_for(lambda node=node: _readyz(node)[0] == 503 and "operator set" in _readyz(node)[1],
                     timeout=10, what="/readyz to name the operator set")  # fmt: skip
            assert _metric(node, "operator_in_set") == 0
            assert "ask governance to add it" in node.log()
    finally:
        stranger.kill()
        removed.kill()
