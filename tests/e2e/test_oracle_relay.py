"""The relayed flow with real processes: three oracle nodes that take evidence by HTTP, exchange their
signatures and pay a worker who never holds POL in one submitAndAttest; a node down, a node lying,
bad intake input, and the leader killed mid-submit. The nodes find each other from the endpoints
their operators publish on chain. One set of nodes serves the whole module."""

from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from eth_utils import keccak

from devtools.accounts import AGENT, OPERATORS, key_of
from devtools.chain import wait_for
from devtools.protocol import Protocol
from devtools.relay import (
    VERIFICATIONS,
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
from oracle_node.operators import succession
from protocol_core.eip712 import attestation_message, sign_compact
from protocol_core.enums import JobStatus, Reason
from protocol_core.handoff import compact_bytes, compact_hex

PAID = JobStatus.PAID


@pytest.fixture(scope="module")
def relay(relay_chain):
    """Three relayed nodes with no peers configured: each finds the others from the endpoints published
    on chain."""
    protocol = relay_chain.protocol
    nodes = relayed_nodes(
        relay_chain.folder,
        relay_chain.rpc,
        relay_chain.deployments,
        relay_chain.aliases,
        from_chain=True,
        takeover_delay=1.5,
        fallback_delay=20,
        intake_burst_per_worker=30,
        intake_per_worker=1,
    )
    publish_endpoints(protocol, nodes)
    with running(nodes):
        yield protocol, nodes


def _operators(protocol: Protocol) -> set[str]:
    return {protocol.account(index) for index in OPERATORS}


def _peer_signature(protocol, job, request, signer, key, approve, reason, set_nonce=None) -> dict:
    """What an operator's node pushes to its peers: its attestation signature, with the evidence record
    (the worker's signed hand-in without the bundle's bytes); `key` may be another's, to lie."""
    nonce = protocol.contracts["VerificationOracle"].functions.setNonce().call()
    nonce = nonce if set_nonce is None else set_nonce
    message = attestation_message(
        chain_id=protocol.w3.eth.chain_id,
        oracle=protocol.addresses.oracle,
        job_id=job.terms.digest(),
        evidence_hash=job.evidence_hash,
        approve=approve,
        reason=reason,
        set_nonce=nonce,
    )
    return {
        "evidence": {k: v for k, v in request.items() if k != "bundle"},
        "approve": approve,
        "reason": reason,
        "set_nonce": nonce,
        "signer": protocol.account(signer),
        "signature": compact_hex(sign_compact(key, message)),
    }


def _paid_worker(protocol: Protocol) -> tuple[Worker, list]:
    worker = Worker.fresh()
    register_relayed(protocol, worker)
    return worker, []


def test_empty_wallet_worker_is_paid_by_one_submit_and_attest_per_job(relay):
    protocol, nodes = relay
    worker, _ = _paid_worker(protocol)
    jobs = [hire_relayed(protocol, worker) for _ in range(6)]
    first_block = protocol.w3.eth.block_number + 1
    for i, job in enumerate(jobs):  # the worker hands each bundle to one node; the others hear of it
        response = hand_in(nodes[i % 3].intake_url, intake_request(protocol, job, worker, inline=i % 2 == 0))
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "accepted" and response.json()["job_id"] == job.job_id

    wait_for(lambda: all(protocol.status(job) == PAID for job in jobs), what="every job paid")

    usdc = protocol.contracts["TestUSDC"].functions
    assert usdc.balanceOf(worker.address).call() == sum(job.terms.reward for job in jobs)
    assert protocol.w3.eth.get_balance(worker.address) == 0  # never held POL, never sent a transaction
    sent = transactions_from(protocol.w3, _operators(protocol), first_block)
    verifications = [tx for tx in sent if tx.function in VERIFICATIONS]
    assert {tx.function for tx in verifications} == {"submitAndAttest"}
    assert len(verifications) == len(jobs)  # exactly one verification transaction per job
    assert all(tx.succeeded for tx in sent), [tx for tx in sent if not tx.succeeded]
    assert len({tx.sender for tx in verifications}) > 1  # leadership is spread over the operators


def test_one_node_down_still_pays_every_job(relay):
    protocol, nodes = relay
    worker, _ = _paid_worker(protocol)
    nodes[2].stop()
    try:
        jobs = [hire_relayed(protocol, worker) for _ in range(4)]
        first_block = protocol.w3.eth.block_number + 1
        for job in jobs:
            assert hand_in(nodes[0].intake_url, intake_request(protocol, job, worker)).status_code == 202
        wait_for(lambda: all(protocol.status(job) == PAID for job in jobs), what="paid with a node down")
    finally:
        nodes[2].start()
    sent = transactions_from(protocol.w3, _operators(protocol), first_block)
    assert Counter(tx.function for tx in sent) == {"submitAndAttest": len(jobs)}
    assert all(tx.succeeded for tx in sent)


def test_a_lying_operator_is_ignored_and_the_job_is_paid_correctly(relay):
    protocol, nodes = relay
    worker, _ = _paid_worker(protocol)
    liar = OPERATORS[2]
    nodes[2].stop()  # its key now lies: an opposite verdict, a signature of garbage, a non-operator
    try:
        job = hire_relayed(protocol, worker)
        first_block = protocol.w3.eth.block_number + 1
        request = intake_request(protocol, job, worker)

        def signed(key: bytes, approve: bool, reason: int, set_nonce: int | None = None) -> dict:
            return _peer_signature(protocol, job, request, liar, key, approve, reason, set_nonce)

        opposite = signed(key_of(liar), False, int(Reason.BAD_SIGNATURE))
        outsider = signed(keccak(b"not an operator"), True, 0)  # claims to be the liar: recovers another
        stale = signed(key_of(liar), True, 0, set_nonce=0)
        peers = [node.intake_url for node in nodes[:2]]
        results = httpx.post(
            f"{peers[0]}/v1/signatures", json={"signatures": [opposite, outsider, stale]}
        ).json()
        assert [r["status"] for r in results["results"]] == ["stored", "refused", "refused"]
        assert [r.get("code") for r in results["results"][1:]] == ["bad_signature", "stale_set"]
        assert httpx.post(f"{peers[1]}/v1/signatures", json={"signatures": [opposite]}).status_code == 200
        garbage = httpx.post(f"{peers[1]}/v1/signatures", content=b"\x00not json")
        assert garbage.status_code == 400 and garbage.json()["error"] == "malformed"
        # The liar's message carried the worker's genuine signed evidence: the nodes verify it on their
        # own (and may have paid already); the worker hands it in as well.
        response = hand_in(peers[0], request)
        assert response.status_code == 202 or protocol.status(job) == PAID, response.text

        wait_for(lambda: protocol.status(job) == PAID, what="the job paid despite the liar")
    finally:
        nodes[2].start()
    verdicts = protocol.contracts["VerificationOracle"].events.VerdictReached.get_logs(from_block=first_block)
    assert [(log["args"]["approved"], log["args"]["reason"]) for log in verdicts] == [(True, 0)]
    assert "peer signature refused" in nodes[0].log()


def test_a_peer_telling_of_evidence_first_does_not_make_a_node_reject_what_it_cannot_fetch(relay):
    """A node may hear of evidence from a peer's signature (the record, without the bytes) before the
    worker's own hand-in reaches it. If it cannot fetch the URI, that is no verdict yet: it waits, takes
    the bytes when the worker's hand-in comes, and signs what they say."""
    protocol, nodes = relay
    worker, _ = _paid_worker(protocol)
    job = hire_relayed(protocol, worker)
    request = intake_request(protocol, job, worker)
    Path(urlsplit(request["uri"]).path).unlink()  # the URI names nothing any node can read
    first_block = protocol.w3.eth.block_number + 1
    early = nodes[1]
    told = _peer_signature(protocol, job, request, OPERATORS[0], key_of(OPERATORS[0]), True, 0)
    answer = httpx.post(f"{early.intake_url}/v1/signatures", json={"signatures": [told]})
    assert answer.json()["results"] == [{"status": "stored"}], answer.text
    item = f"{early.intake_url}/v1/evidence/{job.job_id}/{request['evidence_hash']}"
    waiting = lambda: "waiting for the bytes" in (httpx.get(item).json().get("detail") or "")  # noqa: E731
    wait_for(waiting, what="the node to find the URI unreadable and wait")
    assert httpx.get(item).json()["state"] == "pending"  # nothing signed on what it could not read

    receipt = hand_in(early.intake_url, request)  # the worker's own hand-in, the bytes inline
    assert receipt.json().get("status") == "accepted", receipt.text  # the bytes were taken, not a duplicate
    wait_for(lambda: protocol.status(job) == PAID, what="the job paid on the bytes")
    assert (httpx.get(item).json()["approve"], httpx.get(item).json()["reason"]) == (True, 0)
    # A node that heard of it from the early one's signature takes the same hand-in, after the payout,
    # as a duplicate: nothing new, and nothing refused.
    told = f"{nodes[0].intake_url}/v1/evidence/{job.job_id}/{request['evidence_hash']}"
    wait_for(lambda: httpx.get(told).json()["state"] != "unknown", what="the others told of it")
    late = hand_in(nodes[0].intake_url, request)
    assert (late.status_code, late.json().get("status")) == (202, "duplicate"), late.text
    verdicts = protocol.contracts["VerificationOracle"].events.VerdictReached.get_logs(from_block=first_block)
    assert [(log["args"]["approved"], log["args"]["reason"]) for log in verdicts] == [(True, 0)]


def test_bad_intake_input_gets_a_clear_error(relay):
    protocol, nodes = relay
    url = nodes[0].intake_url
    worker, other = Worker.fresh(), Worker.fresh()
    register_relayed(protocol, worker)
    job = hire_relayed(protocol, worker)

    def refused(request: dict, status: int, code: str) -> None:
        response = hand_in(url, request)
        assert (response.status_code, response.json()["error"]) == (status, code), response.text
        assert response.json()["detail"]

    refused(intake_request(protocol, job, other) | {"worker": worker.address}, 400, "bad_signature")
    refused(intake_request(protocol, job, worker, deadline=1), 400, "expired")
    unknown = protocol.post_open(worker.address)  # posted, never accepted
    refused(intake_request(protocol, unknown, worker), 409, "not_accepted")
    unknown.terms = unknown.terms.model_copy(update={"reward": 1})  # terms nobody posted
    refused(intake_request(protocol, unknown, worker), 404, "unknown_job")
    refused(intake_request(protocol, job, other), 403, "wrong_worker")
    big = intake_request(protocol, job, worker) | {"bundle": "x" * (300 * 1024)}
    refused(big, 413, "oversized")
    refused(intake_request(protocol, job, worker) | {"bundle": "{}"}, 400, "hash_mismatch")
    refused({"terms": {}}, 400, "malformed")
    good = intake_request(protocol, job, worker)
    statuses = [hand_in(url, good).status_code for _ in range(7)]  # the same job, again and again
    assert statuses[0] == 202 and statuses[-1] == 429
    throttled = hand_in(url, good)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    flood = Worker.fresh()  # one worker, many jobs (that need not exist: the limit comes first)
    base = protocol.post_open(flood.address)
    codes = []
    for reward in range(1, 41):
        base.terms = base.terms.model_copy(update={"reward": reward})
        codes.append(hand_in(url, intake_request(protocol, base, flood)).status_code)
    assert codes[:30] == [404] * 30 and codes.count(429) >= 5
    wait_for(lambda: protocol.status(job) == PAID, what="the good evidence paid in the end")
    metrics = httpx.get(f"http://127.0.0.1:{nodes[0].metrics_port}/metrics").text
    for status in ("bad_signature", "wrong_worker", "rate_limited", "accepted"):
        assert f'oracle_node_relay_intake_total{{status="{status}"}}' in metrics


def test_evidence_already_on_chain_goes_with_attest_with_signatures(relay):
    protocol, _nodes = relay
    worker, _ = _paid_worker(protocol)
    job = hire_relayed(protocol, worker)
    request = intake_request(protocol, job, worker)
    first_block = protocol.w3.eth.block_number + 1
    evidence = (
        job.evidence_hash,
        request["uri"],
        request["deadline"],
        list(compact_bytes(request["signature"])),
    )
    protocol.send(
        "JobEscrow", "submitEvidenceFor", job.job_id, evidence, sender=AGENT
    )  # a relayer, not a node

    wait_for(lambda: protocol.status(job) == PAID, what="the job paid from evidence on chain")
    sent = transactions_from(protocol.w3, _operators(protocol), first_block)
    assert Counter(tx.function for tx in sent) == {"attestWithSignatures": 1}
    assert all(tx.succeeded for tx in sent)


def test_leader_killed_mid_submit_the_next_takes_over_and_pays_once(relay):
    protocol, nodes = relay
    worker, _ = _paid_worker(protocol)
    job = hire_relayed(protocol, worker)
    by_address = {protocol.account(index): node for index, node in zip(OPERATORS, nodes, strict=True)}
    leader = by_address[succession(job.job_id, sorted(by_address))[0]]
    first_block = protocol.w3.eth.block_number + 1
    balance = protocol.contracts["TestUSDC"].functions.balanceOf(worker.address)
    protocol.rpc("evm_setAutomine", False)
    try:
        for node in nodes:
            assert hand_in(node.intake_url, intake_request(protocol, job, worker)).status_code == 202
        sent = wait_for(
            lambda: leader.query("SELECT tx_hash FROM transactions WHERE state = 'pending'"),
            what="the leader's submitAndAttest signed and broadcast",
        )
        leader.kill()  # kill -9 with the transaction in flight
        protocol.rpc("anvil_dropTransaction", sent[0][0])  # ... and lost before any block held it
    finally:
        protocol.rpc("evm_setAutomine", True)
        protocol.rpc("evm_mine")

    wait_for(lambda: protocol.status(job) == PAID, what="the next in line to take over")
    leader.start()  # re-broadcasts its stored bytes; the job is paid, so they can only revert
    wait_for(lambda: leader.scalar("SELECT state FROM relay_items", default="") == "done", what="leader done")
    verdicts = protocol.contracts["VerificationOracle"].events.VerdictReached.get_logs(from_block=first_block)
    assert len(verdicts) == 1 and balance.call() == job.terms.reward
    txs = transactions_from(protocol.w3, _operators(protocol), first_block)
    assert [tx.function for tx in txs if tx.succeeded] == ["submitAndAttest"]
    assert txs[0].sender != protocol.account(OPERATORS[nodes.index(leader)])


def test_killed_between_quorum_and_send_the_restart_sends_once(relay):
    protocol, nodes = relay
    worker, _ = _paid_worker(protocol)
    job = hire_relayed(protocol, worker)
    by_address = {protocol.account(index): node for index, node in zip(OPERATORS, nodes, strict=True)}
    leader, second, _third = (by_address[op] for op in succession(job.job_id, sorted(by_address)))
    first_block = protocol.w3.eth.block_number + 1
    leader.stop()  # the second in line holds the quorum and waits for its turn (takeover_delay)
    try:
        assert hand_in(second.intake_url, intake_request(protocol, job, worker)).status_code == 202
        wait_for(lambda: second.scalar("SELECT count(*) FROM relay_signatures") >= 2, what="the quorum")
        second.kill()  # kill -9 holding the quorum
        second.start()
        wait_for(lambda: protocol.status(job) == PAID, what="paid after the restart")
    finally:
        leader.start()
    verdicts = protocol.contracts["VerificationOracle"].events.VerdictReached.get_logs(from_block=first_block)
    txs = transactions_from(protocol.w3, _operators(protocol), first_block)
    assert len(verdicts) == 1 and [tx.function for tx in txs if tx.succeeded] == ["submitAndAttest"]


def test_submit_and_attest_dropped_by_a_reorg_is_sent_again_with_the_same_bytes(relay):
    protocol, nodes = relay
    worker, _ = _paid_worker(protocol)
    job = hire_relayed(protocol, worker)
    assert hand_in(nodes[0].intake_url, intake_request(protocol, job, worker)).status_code == 202
    wait_for(lambda: protocol.status(job) == PAID, what="paid")
    head = protocol.w3.eth.block_number
    (sent,) = [tx for tx in transactions_from(protocol.w3, _operators(protocol), head) if tx.block == head]
    sender = next(
        node for index, node in zip(OPERATORS, nodes, strict=True) if protocol.account(index) == sent.sender
    )
    nonces = sender.scalar("SELECT count(*) FROM transactions")

    protocol.rpc("anvil_reorg", 1, [])  # the block holding the submitAndAttest is replaced by an empty one

    # The node may send again before this line runs (anvil mines at once): judge by where it was mined.
    wait_for(lambda: protocol.status(job) == PAID, what="the same transaction mined again")
    again = transactions_from(protocol.w3, _operators(protocol), head)
    mined = [tx.block for tx in again if tx.function == sent.function]
    assert len(mined) == 1 and mined[0] > head, again  # once, after the block the reorg emptied
    assert sender.scalar("SELECT count(*) FROM transactions") == nonces  # no new nonce: the stored bytes
    verdicts = protocol.contracts["VerificationOracle"].events.VerdictReached.get_logs(from_block=head)
    assert len(verdicts) == 1
