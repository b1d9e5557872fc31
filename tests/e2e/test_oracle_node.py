"""Oracle nodes as real processes against a real anvil: quorum, crashes, reorgs, a chain that goes away."""

from collections import Counter

import httpx
import pytest
from sqlalchemy import create_engine, text

from devtools.accounts import OPERATORS, WORKERS, write_keystores
from devtools.chain import wait_for
from devtools.oracle_nodes import OracleNode as NodeProcess
from devtools.protocol import Protocol
from devtools.servers import TaskiqWorkers
from protocol_core.enums import JobStatus, Reason

from .cli_helpers import nonce

# The session's servers start before the first test, so ape's chain isolation is not rebased.
pytestmark = pytest.mark.usefixtures("redis_server", "postgres_url")
PAID, REFUNDED = JobStatus.PAID, JobStatus.REFUNDED


@pytest.fixture
def world(tmp_path, deployed_anvil, deployed_state):
    """A fresh anvil with the system deployed and set up, and keystores for three operators."""
    anvil = deployed_anvil
    deployments = tmp_path / "deployments.json"
    protocol = Protocol.connect(anvil.url, deployed_state.addresses, tmp_path / "evidence")
    aliases = write_keystores(tmp_path / "ape")
    nodes: list[NodeProcess] = []

    def node(alias: str, **settings) -> NodeProcess:
        started = NodeProcess(tmp_path, anvil.url, deployments, alias, **settings)
        nodes.append(started)
        return started

    yield anvil, protocol, aliases, node
    for started in nodes:
        started.kill()


def _settled(protocol: Protocol, jobs) -> bool:
    return all(protocol.status(job) in (PAID, REFUNDED) for job in jobs)


def _assert_once_per_operator(protocol: Protocol) -> Counter:
    per_pair = Counter((log["jobId"], log["operator"]) for log in protocol.attestations())
    assert per_pair and max(per_pair.values()) == 1, f"attested twice: {per_pair.most_common(3)}"
    return per_pair


def test_three_nodes_reach_quorum_on_a_batch_and_reject_a_forged_confirmation(world):
    _anvil, protocol, aliases, node = world
    nodes = [node(alias) for alias in aliases]
    for started in nodes:
        started.start()
    jobs = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(9)]
    forged = jobs[4]
    for job in jobs:
        raw = protocol.bundle(job, signer=WORKERS[0]) if job is forged else None  # not the confirmer's key
        protocol.submit(job, raw)

    wait_for(lambda: _settled(protocol, jobs), what="every job paid or refunded")

    assert [protocol.status(job) for job in jobs] == [REFUNDED if job is forged else PAID for job in jobs]
    _assert_once_per_operator(protocol)
    forged_logs = protocol.attestations(forged)
    assert len(forged_logs) >= 2
    assert {(log["approve"], log["reason"]) for log in forged_logs} == {(False, Reason.BAD_SIGNATURE)}
    for job in jobs:
        assert len(protocol.attestations(job)) >= 2  # the quorum; a third may land before the verdict
    # every node that attested the forgery counted its verdict; a node the quorum beat to it may not have
    verdict = 'oracle_node_verdicts_total{approve="false",reason="BAD_SIGNATURE"} 1.0'
    metrics = [httpx.get(f"http://127.0.0.1:{started.metrics_port}/metrics").text for started in nodes]
    assert sum(verdict in page for page in metrics) >= len(forged_logs)
    assert all(httpx.get(f"http://127.0.0.1:{n.metrics_port}/readyz").status_code == 200 for n in nodes)


def test_node_killed_mid_batch_restarts_without_missing_or_repeating(world):
    anvil, protocol, aliases, node = world
    operator = protocol.account(OPERATORS[0])
    sent_before = nonce(anvil.url, operator)
    first, second = node(aliases[0]), node(aliases[1])
    first.start()
    second.start()
    jobs = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(12)]
    for job in jobs[:6]:
        protocol.submit(job)
    wait_for(lambda: first.scalar("SELECT count(*) FROM attestations") >= 2, what="the first attestations")
    first.kill()  # kill -9 in the middle of the batch
    for job in jobs[6:]:
        protocol.submit(job)
    first.start()

    wait_for(lambda: _settled(protocol, jobs), what="every job settled after the restart")

    assert all(protocol.status(job) == PAID for job in jobs)
    per_pair = _assert_once_per_operator(protocol)
    assert sum(1 for (_, op) in per_pair if op == operator) == len(jobs)  # it missed none of them
    assert first.scalar("SELECT count(*) FROM attestations") == len(jobs)
    # Never repeats: the contract and the unique key refuse a second attestation, so count what the
    # key sent; a repeat that reverted would still have used a nonce.
    assert nonce(anvil.url, operator) - sent_before == len(jobs)
    assert first.scalar("SELECT count(DISTINCT nonce) FROM transactions") == len(jobs)


def test_reorg_removing_the_evidence_prevents_attestation_until_it_is_submitted_again(world):
    _anvil, protocol, aliases, node = world
    watcher = node(aliases[0], confirmations=2)
    watcher.start()
    job = protocol.post(WORKERS[0])
    receipt = protocol.submit(job)
    evidence_block = receipt["blockNumber"]
    wait_for(lambda: watcher.query("SELECT state FROM evidence"), what="the node to ingest the evidence")

    protocol.rpc("anvil_reorg", 1, [])  # the evidence block is replaced by an empty one
    for _ in range(4):
        protocol.rpc("evm_mine")
    head = protocol.w3.eth.block_number
    wait_for(lambda: watcher.cursor() >= head, what="the node to follow the new fork")

    assert watcher.query("SELECT state FROM evidence") == [("orphaned",)]
    assert "reorg: block" in watcher.log()
    assert protocol.attestations(job) == []
    assert protocol.w3.eth.get_block(evidence_block)["transactions"] == []

    protocol.submit(job)  # the same bundle, submitted again
    for _ in range(3):
        protocol.rpc("evm_mine")
    wait_for(lambda: protocol.attestations(job), what="the attestation on the resubmitted evidence")
    for _ in range(3):
        protocol.rpc("evm_mine")
    head = protocol.w3.eth.block_number
    wait_for(lambda: watcher.cursor() >= head, what="the node to catch up")

    logs = protocol.attestations(job)
    assert len(logs) == 1 and logs[0]["evidenceHash"] == job.evidence_hash and logs[0]["approve"]
    assert watcher.query("SELECT count(*) FROM attestations") == [(1,)]


def test_attestation_dropped_by_a_reorg_is_sent_again(world):
    _anvil, protocol, aliases, node = world
    only = node(aliases[0])
    only.start()
    job = protocol.post(WORKERS[0])
    protocol.submit(job)
    first = wait_for(lambda: protocol.attestations(job), what="the attestation")[0]
    assert first["block"] == protocol.w3.eth.block_number

    protocol.rpc("anvil_reorg", 1, [])  # drops the block holding the attestation

    wait_for(lambda: protocol.attestations(job), what="the attestation to be re-sent")
    assert len(protocol.attestations(job)) == 1
    assert only.query("SELECT count(*) FROM transactions") == [(1,)]  # the same signed bytes, not a new nonce
    assert "attestation dropped by a reorg; re-sending" in only.log()


def test_node_reconnects_after_anvil_restarts_and_catches_up(world):
    anvil, protocol, aliases, node = world
    nodes = [node(alias) for alias in aliases[:2]]
    for started in nodes:
        started.start()
    jobs = [protocol.post(WORKERS[i]) for i in range(4)]
    protocol.submit(jobs[0])
    wait_for(lambda: _settled(protocol, jobs[:1]), what="the first job")

    anvil.stop()
    wait_for(lambda: "unavailable" in nodes[0].log(), what="the node to notice the chain is gone")
    anvil.start()  # same port, same state
    for job in jobs[1:]:
        protocol.submit(job)

    wait_for(lambda: _settled(protocol, jobs), what="the jobs submitted after the restart")
    assert all(protocol.status(job) == PAID for job in jobs)
    _assert_once_per_operator(protocol)
    assert all(started.process.poll() is None for started in nodes)


def test_node_on_postgresql_restarts_after_kill_without_repeating(world, postgres_url):
    _anvil, protocol, aliases, node = world
    only = node(aliases[0], database_url=postgres_url)
    protocol.send("VerificationOracle", "setQuorum", 1, sender=0)
    only.start()
    jobs = [protocol.post(WORKERS[i]) for i in range(6)]
    for job in jobs[:3]:
        protocol.submit(job)
    wait_for(lambda: _settled(protocol, jobs[:3]), what="the first jobs on PostgreSQL")
    only.kill()
    for job in jobs[3:]:
        protocol.submit(job)
    only.start()

    wait_for(lambda: _settled(protocol, jobs), what="the jobs submitted while the node was down")
    _assert_once_per_operator(protocol)
    with create_engine(postgres_url).connect() as db:
        assert db.execute(text("SELECT count(*) FROM attestations")).scalar() == len(jobs)
        assert db.execute(text("SELECT count(DISTINCT nonce) FROM transactions")).scalar() == len(jobs)


def test_verification_runs_on_two_taskiq_workers(world, redis_server, tmp_path):
    _anvil, protocol, aliases, node = world
    broker = redis_server.rsplit("/", 1)[0] + "/5"  # a queue of its own
    workers = TaskiqWorkers(broker, 2, tmp_path, file_root=str(tmp_path / "evidence"))
    try:
        workers.wait_listening()
        nodes = [node(alias, broker_url=broker) for alias in aliases[:2]]
        for started in nodes:
            started.start()
        jobs = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(10)]
        forged = jobs[3]
        for job in jobs:
            protocol.submit(job, protocol.bundle(job, signer=WORKERS[1]) if job is forged else None)

        wait_for(lambda: _settled(protocol, jobs), what="verdicts from the taskiq workers")
    finally:
        workers.stop()
    assert [protocol.status(job) for job in jobs] == [REFUNDED if job is forged else PAID for job in jobs]
    assert {log["reason"] for log in protocol.attestations(forged)} == {Reason.BAD_SIGNATURE}
    _assert_once_per_operator(protocol)


def test_stuck_attestation_is_re_signed_with_higher_fees(world):
    _anvil, protocol, aliases, node = world
    only = node(aliases[0], confirmations=1, gas_bump_blocks=1, gas_bump_seconds=0)
    protocol.send("VerificationOracle", "setQuorum", 1, sender=0)
    only.start()
    job = protocol.post(WORKERS[0])
    protocol.submit(job)
    protocol.rpc("evm_setAutomine", False)
    protocol.rpc("evm_mine")  # the evidence is now one block deep: the node signs and broadcasts
    sent = wait_for(lambda: only.query("SELECT max_fee FROM transactions"), what="the attestation to be sent")
    first_fee = sent[0][0]

    protocol.rpc("anvil_setNextBlockBaseFeePerGas", hex(first_fee * 10))
    protocol.rpc("evm_mine")  # a block too expensive for the transaction: it stays in the pool
    assert protocol.attestations(job) == []
    wait_for(lambda: "," in only.scalar("SELECT hashes FROM transactions", default=""), what="the fee bump")
    protocol.rpc("evm_mine")

    wait_for(lambda: protocol.attestations(job), what="the re-signed attestation to be mined")
    ((hashes, max_fee),) = only.query("SELECT hashes, max_fee FROM transactions")
    assert len(hashes.split(",")) >= 2 and max_fee > first_fee
    assert len(protocol.attestations(job)) == 1 and protocol.status(job) == PAID
    assert "fees bumped" in only.log()


def test_uri_that_is_not_utf8_is_rejected_and_the_node_goes_on(world):
    _anvil, protocol, aliases, node = world
    nodes = [node(alias) for alias in aliases[:2]]
    for started in nodes:
        started.start()
    hostile, honest = protocol.post(WORKERS[0]), protocol.post(WORKERS[1])
    protocol.submit_raw_uri(hostile, b"file:///\xff\xfe\x00evidence")
    protocol.submit(honest)

    wait_for(lambda: _settled(protocol, [hostile, honest]), what="both jobs settled")
    assert protocol.status(hostile) == REFUNDED and protocol.status(honest) == PAID
    assert {log["reason"] for log in protocol.attestations(hostile)} == {Reason.UNSUPPORTED_URI}
