"""The indexer as a real process on a real anvil: catch-up, kill -9 and restart, reorgs."""

import httpx
import pytest

from devtools.accounts import AGENT, OPERATORS, WORKERS
from devtools.chain import wait_for
from devtools.indexer import IndexerProcess
from devtools.protocol import Protocol
from protocol_core.enums import JobStatus


@pytest.fixture
def world(tmp_path, deployed_anvil, deployed_state):
    protocol = Protocol.connect(deployed_anvil.url, deployed_state.addresses, tmp_path / "evidence")
    started: list[IndexerProcess] = []

    def indexer() -> IndexerProcess:
        process = IndexerProcess(tmp_path, deployed_anvil.url, tmp_path / "deployments.json")
        started.append(process.start())
        process.wait_ready()
        return process

    yield protocol, indexer
    for process in started:
        process.kill()


def _caught_up(indexer: IndexerProcess, protocol: Protocol) -> bool:
    return indexer.block() >= protocol.w3.eth.block_number


def test_catches_up_workers_operators_and_jobs_and_serves_them(world):
    protocol, start = world
    jobs = [protocol.post(WORKERS[i]) for i in range(3)]  # posted and accepted
    indexer = start()
    wait_for(lambda: _caught_up(indexer, protocol), what="the indexer at the head")

    workers = indexer.get("/v1/workers?limit=100")
    assert {w["address"] for w in workers} == {protocol.account(i).lower() for i in WORKERS}
    first = indexer.get(f"/v1/workers/{protocol.account(WORKERS[0])}")
    assert (first["languages"], first["expertise"], first["max_concurrent"]) == (1, 1, 200)
    assert (first["active_jobs"], first["available"]) == (1, True)
    operators = indexer.get("/v1/operators")
    assert sorted(o["address"] for o in operators) == sorted(protocol.account(i).lower() for i in OPERATORS)
    min_stake = protocol.contracts["VerificationOracle"].functions.minStake().call()
    assert all(o["stake"] == min_stake and o["active"] for o in operators)
    for job in jobs:
        row = indexer.get(f"/v1/jobs/{job.job_id}")
        assert row["status"] == JobStatus.ACCEPTED and row["worker"] == job.worker.lower()
        assert (row["reward"], row["deadline"]) == (job.terms.reward, job.terms.resolve_by)
    assert indexer.get(f"/v1/jobs?agent={protocol.account(AGENT)}&status={int(JobStatus.ACCEPTED)}") != []
    assert httpx.get(f"http://127.0.0.1:{indexer.port}/metrics").text.count("indexer_cursor_block") >= 1


def test_kill_9_mid_stream_then_restart_misses_and_repeats_nothing(world):
    protocol, start = world
    indexer = start()
    before = [protocol.post(WORKERS[i]) for i in range(2)]
    wait_for(lambda: _caught_up(indexer, protocol), what="the first jobs indexed")
    indexer.kill()
    after = [protocol.post(WORKERS[2 + i]) for i in range(3)]
    protocol.send("WorkerRegistry", "setAvailability", False, sender=WORKERS[9])

    restarted = start()
    wait_for(lambda: _caught_up(restarted, protocol), what="the restarted indexer at the head")

    listed = restarted.get("/v1/jobs?limit=100")
    assert sorted(j["job_id"] for j in listed) == sorted(j.job_id for j in before + after)
    assert restarted.get(f"/v1/workers/{protocol.account(WORKERS[9])}")["available"] is False
    assert restarted.get(f"/v1/workers/{protocol.account(WORKERS[2])}")["active_jobs"] == 1


def test_reorg_removes_what_the_orphaned_blocks_said_and_keeps_the_rest(world):
    protocol, start = world
    indexer = start()
    kept = protocol.post(WORKERS[0])
    protocol.send("WorkerRegistry", "setAvailability", False, sender=WORKERS[1])
    wait_for(lambda: _caught_up(indexer, protocol), what="the indexer at the head")
    assert indexer.get(f"/v1/workers/{protocol.account(WORKERS[1])}")["available"] is False
    orphan = protocol.post(WORKERS[3])  # post + accept: two blocks
    wait_for(lambda: indexer.get(f"/v1/jobs/{orphan.job_id}") is not None, what="the orphan indexed")

    protocol.rpc("anvil_reorg", 3, [])  # replaces the availability switch, the post and the accept
    protocol.rpc("evm_mine")

    wait_for(lambda: indexer.get(f"/v1/jobs/{orphan.job_id}") is None, what="the orphaned job gone")
    assert indexer.get(f"/v1/jobs/{kept.job_id}")["status"] == JobStatus.ACCEPTED
    assert indexer.get(f"/v1/workers/{protocol.account(WORKERS[3])}")["active_jobs"] == 0
    assert indexer.get(f"/v1/workers/{protocol.account(WORKERS[1])}")["available"] is True
    again = protocol.post(WORKERS[3])  # the chain goes on after the reorg
    wait_for(lambda: _caught_up(indexer, protocol), what="a new job and its acceptance after the reorg")
    assert indexer.get(f"/v1/jobs/{again.job_id}")["status"] == JobStatus.ACCEPTED
    assert indexer.get(f"/v1/workers/{protocol.account(WORKERS[3])}")["active_jobs"] == 1
