"""Relayed nodes that cannot reach each other: after fallback_delay the worker's evidence goes on chain
(once, by the first in line) and the operators attest one by one, so nobody is censored; with two of
three nodes stopped nothing is paid, and the job refunds its agent once verification is overdue."""

from collections import Counter

import pytest

from devtools.accounts import AGENT, OPERATORS
from devtools.chain import free_port, wait_for
from devtools.relay import (
    Worker,
    hand_in,
    hire_relayed,
    intake_request,
    publish_endpoints,
    register_relayed,
    relayed_nodes,
    running,
    transactions_from,
)
from protocol_core.enums import JobStatus


@pytest.fixture(scope="module")
def partitioned(relay_chain):
    """Three nodes whose configured peers are ports nothing listens on, while the endpoints published on
    chain are the real ones: the configuration overrides the chain, so they never meet."""
    nowhere = {alias: [f"http://127.0.0.1:{free_port()}"] * 2 for alias in relay_chain.aliases}
    nodes = relayed_nodes(
        relay_chain.folder,
        relay_chain.rpc,
        relay_chain.deployments,
        relay_chain.aliases,
        peers=nowhere,
        takeover_delay=1,
        fallback_delay=3,
    )
    publish_endpoints(relay_chain.protocol, nodes)
    with running(nodes):
        worker = Worker.fresh()
        register_relayed(relay_chain.protocol, worker)
        yield relay_chain.protocol, nodes, worker


def _operators(protocol) -> set[str]:
    return {protocol.account(i) for i in OPERATORS}


def test_partition_falls_back_to_evidence_and_attestations_on_chain(partitioned):
    protocol, nodes, worker = partitioned
    jobs = [hire_relayed(protocol, worker) for _ in range(3)]
    first_block = protocol.w3.eth.block_number + 1
    for job in jobs:
        request = intake_request(protocol, job, worker)
        for node in nodes:  # the worker hands its evidence to every operator it knows
            assert hand_in(node.intake_url, request).status_code == 202

    wait_for(lambda: all(protocol.status(job) == JobStatus.PAID for job in jobs), what="paid by the fallback")
    sent = transactions_from(protocol.w3, _operators(protocol), first_block)
    succeeded = Counter(tx.function for tx in sent if tx.succeeded)
    assert succeeded["submitEvidenceFor"] == len(jobs)  # the evidence went on chain once per job
    assert succeeded["attest"] == 2 * len(jobs) and succeeded["submitAndAttest"] == 0
    assert "unreachable" in nodes[0].log()


def test_two_of_three_stopped_nothing_is_paid_and_the_job_refunds_when_verification_is_overdue(partitioned):
    protocol, nodes, worker = partitioned  # last in the module: it moves the chain's clock
    usdc = protocol.contracts["TestUSDC"].functions
    job = hire_relayed(protocol, worker)
    earned = usdc.balanceOf(worker.address).call()  # from the jobs paid before
    first_block = protocol.w3.eth.block_number + 1
    for node in nodes[1:]:
        node.stop()
    survivor = protocol.account(OPERATORS[0])
    assert hand_in(nodes[0].intake_url, intake_request(protocol, job, worker)).status_code == 202

    # The survivor puts the evidence on chain and attests it alone: one attestation, no quorum.
    wait_for(lambda: len(protocol.attestations(job)) == 1, what="the survivor's attestation")
    assert protocol.attestations(job)[0]["operator"] == survivor
    assert protocol.status(job) == JobStatus.SUBMITTED and usdc.balanceOf(worker.address).call() == earned
    sent = transactions_from(protocol.w3, _operators(protocol), first_block)
    assert Counter(tx.function for tx in sent if tx.succeeded) == {"submitEvidenceFor": 1, "attest": 1}
    assert all(tx.sender == survivor for tx in sent)

    _status, _hash, verify_by = (
        protocol.contracts["JobEscrow"].functions.verificationContext(job.job_id).call()
    )
    protocol.rpc("evm_setNextBlockTimestamp", verify_by + 1)
    agent_before = usdc.balanceOf(protocol.account(AGENT)).call()
    protocol.send("JobEscrow", "settle", job.terms.as_abi(), sender=AGENT)  # anyone may: the agent here
    assert protocol.status(job) == JobStatus.REFUNDED
    assert usdc.balanceOf(worker.address).call() == earned
    assert (
        usdc.balanceOf(protocol.account(AGENT)).call() - agent_before
        == job.terms.reward + job.terms.oracle_fee + job.terms.protocol_fee
    )
