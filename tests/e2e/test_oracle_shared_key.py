"""The operator's key used by someone else while the node runs: its own top-ups, a second node on the key."""

import pytest

from devtools.accounts import OPERATORS, WORKERS, key_of, write_keystore
from devtools.chain import wait_for
from devtools.oracle_nodes import OracleNode
from devtools.protocol import Protocol
from protocol_core.enums import JobStatus

from .cli_helpers import nonce

pytestmark = pytest.mark.usefixtures("redis_server", "postgres_url")  # see test_oracle_node.py
OP = OPERATORS[0]


@pytest.fixture
def world(tmp_path, deployed_anvil, deployed_state):
    protocol = Protocol.connect(deployed_anvil.url, deployed_state.addresses, tmp_path / "evidence")
    protocol.send("VerificationOracle", "setQuorum", 1, sender=0)  # one node settles a job
    write_keystore(tmp_path / "ape", "op", key_of(OP))
    return tmp_path, deployed_anvil, protocol


def _paid(protocol: Protocol, jobs) -> bool:
    return all(protocol.status(job) == JobStatus.PAID for job in jobs)


def _own_transaction(protocol: Protocol) -> None:
    """What an operator's wallet sends from the node's key: here a mint of test USDC to itself."""
    protocol.send("TestUSDC", "mint", protocol.account(OP), 1, sender=OP)


def test_transactions_from_the_same_key_mid_batch_and_across_a_restart_do_not_stall_the_node(world):
    tmp_path, anvil, protocol = world
    node = OracleNode(tmp_path, anvil.url, tmp_path / "deployments.json", "op").start()
    try:
        jobs = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(9)]
        for job in jobs[:3]:
            protocol.submit(job)
        wait_for(lambda: node.scalar("SELECT count(*) FROM attestations") >= 1, what="a first attestation")
        _own_transaction(protocol)
        _own_transaction(protocol)
        for job in jobs[3:6]:
            protocol.submit(job)
        wait_for(
            lambda: _paid(protocol, jobs[:6]), timeout=30, what="the batch settled despite the key's own txs"
        )

        node.kill()
        _own_transaction(protocol)
        node.start()
        for job in jobs[6:]:
            protocol.submit(job)
        wait_for(lambda: _paid(protocol, jobs), timeout=30, what="the jobs after the restart settled")
        assert node.exit_code() is None
        assert node.scalar("SELECT count(*) FROM attestations") == len(jobs)
        assert node.scalar("SELECT count(*) FROM attestations WHERE state = 'reverted'") == 0
    finally:
        node.kill()


def test_two_nodes_on_one_key_attest_everything_and_report_the_second_signer(world):
    tmp_path, anvil, protocol = world
    deployments = tmp_path / "deployments.json"
    first = OracleNode(tmp_path, anvil.url, deployments, "op").start()
    (tmp_path / "second").mkdir()
    write_keystore(tmp_path / "second" / "ape", "op", key_of(OP))
    second = OracleNode(tmp_path / "second", anvil.url, deployments, "op", evidence=tmp_path / "evidence")
    second.start()
    try:
        sent_before = nonce(anvil.url, protocol.account(OP))
        jobs = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(8)]
        for job in jobs:
            protocol.submit(job)
        wait_for(lambda: _paid(protocol, jobs), timeout=45, what="every job settled by two nodes on one key")
        log = first.log() + second.log()
        assert "another process" in log and '"level": "ERROR"' in log
        assert nonce(anvil.url, protocol.account(OP)) - sent_before >= len(jobs)
    finally:
        first.kill()
        second.kill()
