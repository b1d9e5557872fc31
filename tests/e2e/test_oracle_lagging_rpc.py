"""A load-balanced RPC with a backend 15 blocks behind answering part of the requests (issue 9, item 11)."""

from collections import Counter

import pytest

from devtools.accounts import OPERATORS, WORKERS, key_of, write_keystore
from devtools.chain import wait_for
from devtools.lagging_rpc import LaggingRpc
from devtools.oracle_nodes import OracleNode
from devtools.protocol import Protocol
from protocol_core.enums import JobStatus

pytestmark = pytest.mark.usefixtures("redis_server", "postgres_url")  # see test_oracle_node.py
OP = OPERATORS[0]
JOBS = 36
UNSETTLED = "SELECT count(*) FROM evidence WHERE state IN ('seen', 'verifying', 'decided', 'attesting')"


def test_a_backend_behind_answering_part_of_the_requests_loses_no_job(
    tmp_path, deployed_anvil, deployed_state
):
    protocol = Protocol.connect(deployed_anvil.url, deployed_state.addresses, tmp_path / "evidence")
    protocol.send("VerificationOracle", "setQuorum", 1, sender=0)  # one node settles a job
    write_keystore(tmp_path / "ape", "op", key_of(OP))
    with LaggingRpc(deployed_anvil.url, lag=15, share=0.4) as rpc:
        node = OracleNode(tmp_path, rpc.url, tmp_path / "deployments.json", "op").start()
        try:
            jobs = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(JOBS)]
            last = max(int(protocol.submit(job)["blockNumber"]) for job in jobs)

            def finished() -> bool:
                paid = sum(protocol.status(job) == JobStatus.PAID for job in jobs)
                return paid == JOBS or (node.cursor() >= last and node.scalar(UNSETTLED) == 0)

            wait_for(finished, timeout=90, what="every job settled, or the node done with what it saw")
            missed = [job.job_id for job in jobs if protocol.status(job) != JobStatus.PAID]
            reasons = Counter(
                detail for (detail,) in node.query("SELECT detail FROM evidence WHERE state != 'done'")
            )
            assert not missed, (
                f"{len(missed)} of {JOBS} jobs never attested; the node's reasons: {dict(reasons)}"
            )
            per_job = Counter(attested["jobId"] for attested in protocol.attestations())
            assert len(per_job) == JOBS and set(per_job.values()) == {1}, "a job attested twice"
            assert rpc.lagged > 0 and rpc.stale > 0, "the lagging backend never answered a stale read"
            assert node.exit_code() is None
        finally:
            node.kill()
