"""A dozen hostile evidence servers (headers a byte at a time) do not hold honest jobs back, and a
node told to stop cuts the hostile fetches instead of waiting them out (issue 9, item 12), with the
nodes as real processes."""

import pytest

from devtools.accounts import WORKERS, write_keystores
from devtools.chain import wait_for
from devtools.oracle_nodes import OracleNode
from devtools.protocol import Protocol
from protocol_core.enums import JobStatus
from tests.oracle_node.evidence_server import EvidenceServer, Route

HOSTILE, HONEST = 12, 8
PER_HOST = 2  # fetch_per_host


@pytest.fixture
def hostile_server():
    server = EvidenceServer()
    server.start()
    yield server
    server.stop()


def test_slow_header_servers_delay_no_honest_verdict_and_stop_cuts_them(
    tmp_path, deployed_anvil, deployed_state, hostile_server
):
    protocol = Protocol.connect(deployed_anvil.url, deployed_state.addresses, tmp_path / "evidence")
    # A fetch deadline far beyond the test: if a hostile fetch held a verifier, honest jobs would wait.
    settings = dict(evidence_timeout=600, fetch_attempts=1, fetch_per_host=PER_HOST, allow_private_hosts=True,
                    verify_concurrency=4)  # fmt: skip
    nodes = [
        OracleNode(tmp_path, deployed_anvil.url, tmp_path / "deployments.json", alias,
                   evidence=tmp_path / "evidence", **settings)
        for alias in write_keystores(tmp_path / "ape")[:2]  # quorum 2
    ]  # fmt: skip
    try:
        for node in nodes:
            node.start()
        hostile = []
        for i in range(HOSTILE):  # first, so their evidence is ahead of the honest jobs in every queue
            job = protocol.post(WORKERS[i % len(WORKERS)])
            protocol.submit(job, uri=hostile_server.add(f"/slow/{i}", Route(trickle=1.0)))
            hostile.append(job)
        honest = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(HONEST)]
        for job in honest:
            protocol.submit(job)

        wait_for(lambda: all(protocol.status(job) == JobStatus.PAID for job in honest), timeout=90,
                 what="every honest job paid while the hostile servers trickle")  # fmt: skip

        assert all(protocol.status(job) == JobStatus.SUBMITTED for job in hostile)
        assert not any(protocol.attestations(job) for job in hostile)  # their fetches are still running
        slow_hits = sum(count for path, count in hostile_server.hits.items() if path.startswith("/slow/"))
        assert 0 < slow_hits <= PER_HOST * len(nodes)  # the rest wait in the queue, not in threads
        for node in nodes:
            assert node.stop(timeout=30) == 0, node.tail()  # SIGTERM cuts the fetches; exits cleanly
    finally:
        for node in nodes:
            node.kill()
