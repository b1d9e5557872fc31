"""Three relayed nodes that cannot reach each other: after fallback_delay the worker's evidence goes on
chain (once, by the first in line) and the operators attest one by one, so nobody is censored."""

import shutil
from collections import Counter

import pytest

from devtools.accounts import OPERATORS, write_keystores
from devtools.chain import Anvil, free_port, wait_for
from devtools.protocol import Protocol
from devtools.relay import (
    Worker,
    hand_in,
    hire_relayed,
    intake_request,
    register_relayed,
    relayed_nodes,
    transactions_from,
)
from protocol_core.enums import JobStatus


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory, deployed_state):
    """A fresh anvil (quorum 2 of 3) and three nodes whose peers are ports nothing listens on."""
    folder = tmp_path_factory.mktemp("partition")
    shutil.copy(deployed_state.state, folder / "anvil-state.json")
    shutil.copy(deployed_state.deployments, folder / "deployments.json")
    anvil = Anvil(folder)
    anvil.start()
    protocol = Protocol.connect(anvil.url, deployed_state.addresses, folder / "evidence")
    aliases = write_keystores(folder / "ape")
    nowhere = {alias: [f"http://127.0.0.1:{free_port()}"] * 2 for alias in aliases}
    nodes = relayed_nodes(
        folder,
        anvil.url,
        folder / "deployments.json",
        aliases,
        peers=nowhere,
        takeover_delay=1,
        fallback_delay=3,
    )
    for node in nodes:
        node.start()
    yield protocol, nodes
    for node in nodes:
        node.kill()
    anvil.kill()


def test_partition_falls_back_to_evidence_and_attestations_on_chain(partitioned):
    protocol, nodes = partitioned
    worker = Worker.fresh()
    register_relayed(protocol, worker)
    jobs = [hire_relayed(protocol, worker) for _ in range(3)]
    first_block = protocol.w3.eth.block_number + 1
    for job in jobs:
        request = intake_request(protocol, job, worker)
        for node in nodes:  # the worker hands its evidence to every operator it knows
            assert hand_in(node.intake_url, request).status_code == 202

    wait_for(lambda: all(protocol.status(job) == JobStatus.PAID for job in jobs), what="paid by the fallback")
    sent = transactions_from(protocol.w3, {protocol.account(i) for i in OPERATORS}, first_block)
    succeeded = Counter(tx.function for tx in sent if tx.succeeded)
    assert succeeded["submitEvidenceFor"] == len(jobs)  # the evidence went on chain once per job
    assert succeeded["attest"] == 2 * len(jobs) and succeeded["submitAndAttest"] == 0
    assert "unreachable" in nodes[0].log()
