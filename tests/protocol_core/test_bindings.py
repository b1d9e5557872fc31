"""protocol_core's typed bindings and event decoding against the deployed system on anvil."""

import pytest
from eth_utils import keccak

from devtools.system import REWARD
from protocol_core.bindings import Escrow, Oracle, Pool, Registry
from protocol_core.enums import Ineligibility, JobStatus, RoundPhase
from protocol_core.events import UnknownEvent, decode_log, decode_logs, topic
from protocol_core.terms import Requirements


@pytest.fixture
def w3(chain):
    return chain.provider.web3


@pytest.fixture
def bound(w3, system):
    return (
        Escrow(w3, str(system.escrow.address)),
        Oracle(w3, str(system.oracle.address)),
        Registry(w3, str(system.registry.address)),
        Pool(w3, str(system.arbitrator.address)),
    )


def send(w3, call, sender):
    tx_hash = w3.eth.send_transaction({"from": str(sender.address), "to": call.to, "data": call.data})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, f"{call.function} reverted"
    return receipt


def test_calls_built_by_the_bindings_move_a_job_and_views_read_it(w3, bound, make_terms, agent, worker):
    escrow, _, _, _ = bound
    terms = make_terms()
    job_id = terms.digest()
    assert escrow.job_state(job_id).status == JobStatus.NONE

    posted = send(w3, escrow.post_job(terms), agent)
    state = escrow.job_state(job_id)
    assert state.status == JobStatus.OPEN and state.deadline == terms.accept_by

    send(w3, escrow.accept_job(terms), worker)
    assert escrow.job_state(job_id).worker == str(worker.address)

    evidence_hash = keccak(b"bundle")
    send(w3, escrow.submit_evidence(job_id, evidence_hash, "ipfs://bundle"), worker)
    context = escrow.verification_context(job_id)
    assert (context.status, context.evidence_hash) == (JobStatus.SUBMITTED, evidence_hash)
    assert context.verify_by > 0

    (event,) = decode_logs(posted["logs"])  # the token's Transfer log is not the protocol's
    assert (event.name, event["jobId"], event["agent"]) == ("JobPosted", job_id, str(agent.address))
    assert event.contract == "JobEscrow" and event.block_number == posted["blockNumber"]
    assert event["terms"][1] == REWARD


def test_views_of_oracle_registry_and_pool(bound, operators, worker, stranger, system):
    escrow, oracle, registry, pool = bound
    assert escrow.quote(REWARD) == tuple(system.escrow.quote(REWARD))
    info = oracle.operator_of(str(operators[0].address))
    assert info.active and info.stake >= oracle.min_stake() and info.index == 1
    assert oracle.quorum() == 2 and oracle.set_nonce() == system.oracle.setNonce()
    assert registry.profile(str(worker.address)).max_concurrent == 2
    assert (
        registry.eligibility(str(stranger.address), Requirements(language=0)) == Ineligibility.NOT_REGISTERED
    )
    assert (
        registry.eligibility(str(worker.address), Requirements(language=0, expertise=1)) == Ineligibility.NONE
    )
    assert pool.phase(123) == RoundPhase.NONE
    assert escrow.credit_of(str(stranger.address)) == 0


def test_decode_log_refuses_a_topic_no_contract_emits():
    log = {"topics": ["0x" + "00" * 32], "data": "0x", "address": "0x" + "11" * 20}
    with pytest.raises(UnknownEvent, match="no protocol event"):
        decode_log(log)


def test_topic_names_the_event_it_hashes():
    assert topic("JobEscrow", "JobAccepted") == "0x" + keccak(text="JobAccepted(bytes32,address)").hex()
    with pytest.raises(UnknownEvent, match="JobEscrow has no event Nope"):
        topic("JobEscrow", "Nope")
