"""The operator's key used by someone else while the node runs: its own top-ups, a second node on the key."""

from collections import Counter

import pytest

from devtools.accounts import OPERATORS, WORKERS, key_of, write_keystore
from devtools.chain import wait_for
from devtools.oracle_nodes import OracleNode
from devtools.protocol import Job, Protocol
from protocol_core.enums import JobStatus

from .cli_helpers import nonce

pytestmark = pytest.mark.usefixtures("redis_server", "postgres_url")  # see test_oracle_node.py
OP = OPERATORS[0]
MOST_BUMPS = 3  # fee bumps one nonce may see here; a row re-bumped without end would pass this
COLLIDED = "were used by transactions this daemon did not sign"  # the tracker's line for a lost nonce
PENDING = "SELECT count(*) FROM transactions WHERE state = 'pending'"
BUMPS = "SELECT coalesce(max(length(hashes) - length(replace(hashes, ',', ''))), 0) FROM transactions"


@pytest.fixture
def world(tmp_path, deployed_anvil, deployed_state):
    protocol = Protocol.connect(deployed_anvil.url, deployed_state.addresses, tmp_path / "evidence")
    protocol.send("VerificationOracle", "setQuorum", 1, sender=0)  # one node settles a job
    write_keystore(tmp_path / "ape", "op", key_of(OP))
    return tmp_path, deployed_anvil, protocol


def _paid(protocol: Protocol, jobs: list[Job]) -> bool:
    return all(protocol.status(job) == JobStatus.PAID for job in jobs)


def _own_transaction(protocol: Protocol) -> None:
    """What an operator's wallet sends from the node's key: here a mint of test USDC to itself."""
    protocol.send("TestUSDC", "mint", protocol.account(OP), 1, sender=OP)


def _attested_once_each(protocol: Protocol, jobs: list[Job]) -> None:
    per_job = Counter(attested["jobId"] for attested in protocol.attestations())
    assert {"0x" + bytes(job_id).hex() for job_id in per_job} == {job.job_id for job in jobs}
    assert set(per_job.values()) == {1}, "a job attested twice"


def test_transactions_from_the_same_key_mid_batch_and_across_a_restart_do_not_stall_the_node(world):
    tmp_path, anvil, protocol = world
    node = OracleNode(tmp_path, anvil.url, tmp_path / "deployments.json", "op").start()
    try:
        jobs = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(12)]
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
        _own_transaction(protocol)  # before the restart
        before_restart = len(node.log())
        node.start()
        for job in jobs[6:9]:
            protocol.submit(job)
        wait_for(lambda: _paid(protocol, jobs[:7]), timeout=30, what="a job settled after the restart")
        _own_transaction(protocol)  # after the restart, mid-batch: the node's next nonce is taken
        for job in jobs[9:]:
            protocol.submit(job)
        wait_for(lambda: _paid(protocol, jobs), timeout=30, what="the jobs after the restart settled")
        wait_for(lambda: node.scalar(PENDING) == 0, timeout=30, what="no transaction left pending")

        assert node.exit_code() is None
        assert node.scalar("SELECT count(*) FROM attestations") == len(jobs)
        assert node.scalar("SELECT count(*) FROM attestations WHERE state = 'reverted'") == 0
        _attested_once_each(protocol, jobs)
        assert node.scalar(BUMPS) <= MOST_BUMPS
        # Since the restart: six jobs verified, each counted once (also when one was signed twice).
        assert node.metric("verdicts_total") == 6
        assert node.metric("events_seen_total") == 6
        assert "the key's nonce moved" in node.log()  # the wallet's nonces were skipped over, loudly
        assert node.metric("foreign_nonces_total") >= 1
        status, reason = node.readyz()
        # The alarm is the running process's: a collision before the restart is in the log, not in /readyz.
        if (
            COLLIDED in node.log()[before_restart:]
        ):  # the wallet signed between the node's nonce read and send
            assert status == 503 and "sender stuck: a second signer used nonces" in reason
        else:
            assert status == 200, reason
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
    nodes = (first, second)
    try:
        sent_before = nonce(anvil.url, protocol.account(OP))
        jobs = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(10)]
        for job in jobs:
            protocol.submit(job)
        wait_for(lambda: _paid(protocol, jobs), timeout=45, what="every job settled by two nodes on one key")
        for node in nodes:
            wait_for(lambda n=node: n.scalar(PENDING) == 0, timeout=30, what=f"{node.alias}: nothing pending")

        _attested_once_each(protocol, jobs)
        assert nonce(anvil.url, protocol.account(OP)) - sent_before >= len(jobs)
        for node in nodes:
            loud = [line for line in node.log().splitlines() if "another process signs" in line]
            assert loud and all('"level": "ERROR"' in line for line in loud), f"{node.alias} said nothing"
            assert node.exit_code() is None
            assert node.scalar(BUMPS) <= MOST_BUMPS
            if COLLIDED in node.log():  # it lost a nonce it had signed
                status, reason = node.readyz()
                assert status == 503 and "a second signer" in reason
    finally:
        first.kill()
        second.kill()
