"""`submitAndAttest`: the worker's signed evidence and the quorum's signatures, verdict and payout in
one transaction; what a relayer can and cannot do with them; the on-chain fallbacks."""

import pytest

from devtools.reverts import reverts
from devtools.system import PARAMS, USDC, add_operators, deploy_fiat_usdc, deploy_local, fund, register_worker
from protocol_core.enums import JobStatus, RefundReason
from tests.contracts.relay_helpers import Relay

OTHER_CHAIN_ID = 137


def _accepted(flow, make_terms, worker, **over):
    terms = make_terms(**over)
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)
    return terms, job_id


def _signed(relay, operators, worker, job_id, approve=True, reason=0):
    evidence = relay.evidence(worker, job_id)
    return evidence, relay.attestations(operators, job_id, evidence.evidence_hash, approve, reason)


def test_submit_and_attest_pays_the_worker_in_one_transaction_sent_by_an_operator(
    escrow, oracle, registry, usdc, worker, operators, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence, signatures = _signed(relay, operators[1:], worker, job_id)
    worker_before, nonce_before = usdc.balanceOf(worker), worker.nonce
    share = PARAMS.oracle_fee // 2

    tx = oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=operators[1])

    assert [e for e in tx.events if e.contract_address != usdc.address] == [
        oracle.VerdictReached(job_id, evidence.evidence_hash, True, 0, 0b110),
        escrow.EvidenceSubmitted(job_id, worker, evidence.evidence_hash, evidence.uri),
        escrow.OracleFeeShared(job_id, 0b110, PARAMS.oracle_fee),
        escrow.WorkerPaid(job_id, worker, terms.reward, terms.protocol_fee),
        registry.WorkRecorded(worker, activeJobs=0, completed=1, missedDeadlines=0, disputesLost=0),
    ]
    assert usdc.balanceOf(worker) == worker_before + terms.reward
    assert worker.nonce == nonce_before
    assert escrow.verificationContext(job_id) == (JobStatus.PAID, b"\x00" * 32, escrow.jobState(job_id)[2])
    assert [escrow.operatorFeesOf(op) for op in operators] == [0, share, share]
    assert [escrow.creditOf(op) for op in operators] == [0, 0, 0]


def test_submit_and_attest_may_be_sent_by_anyone(
    escrow, oracle, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence, signatures = _signed(relay, operators[:2], worker, job_id)

    oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=stranger)

    assert escrow.jobState(job_id)[0] == JobStatus.PAID
    assert escrow.creditOf(stranger) == escrow.operatorFeesOf(stranger) == 0


def test_submit_and_attest_refunds_the_agent_on_a_rejection(
    escrow, oracle, usdc, agent, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence, signatures = _signed(relay, operators[:2], worker, job_id, approve=False, reason=9)
    agent_before = usdc.balanceOf(agent)

    tx = oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), False, 9, signatures, sender=stranger)

    refund = terms.reward + terms.protocol_fee
    assert escrow.AgentRefunded(job_id, agent, refund, RefundReason.REJECTED) in tx.events
    assert usdc.balanceOf(agent) == agent_before + refund
    assert escrow.jobState(job_id)[0] == JobStatus.REFUNDED


def test_submit_and_attest_with_a_challenge_window_waits_and_remembers_the_attesters(
    chain, escrow, oracle, usdc, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker, challenge_window=600)
    evidence, signatures = _signed(relay, operators[:2], worker, job_id)

    tx = oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=stranger)

    assert escrow.VerdictRecorded(job_id, True, tx.timestamp + 600) in tx.events
    assert escrow.jobState(job_id)[0] == JobStatus.APPROVED
    assert oracle.verdictAttesters(job_id) == 0b011
    chain.pending_timestamp = tx.timestamp + 601
    before = usdc.balanceOf(worker)
    escrow.settle(terms.as_abi(), sender=stranger)
    assert usdc.balanceOf(worker) == before + terms.reward


def test_front_run_evidence_only_delays_the_verdict(
    escrow, oracle, usdc, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence, signatures = _signed(relay, operators[:2], worker, job_id)
    escrow.submitEvidenceFor(job_id, evidence.as_abi(), sender=stranger)  # a relayer gets there first

    with reverts(
        escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.SUBMITTED, expected=JobStatus.ACCEPTED
    ):
        oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=operators[0])

    before = usdc.balanceOf(worker)
    oracle.attestWithSignatures(
        job_id, evidence.evidence_hash, True, 0, terms.as_abi(), signatures, sender=operators[0]
    )  # the same signatures, the other path
    assert usdc.balanceOf(worker) == before + terms.reward


def test_submit_and_attest_reverts_below_the_quorum(
    oracle, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence, signatures = _signed(relay, operators[:1], worker, job_id)

    for given in (signatures, []):
        with reverts(oracle.QuorumNotReached, jobId=job_id, valid=len(given), quorum=2):
            oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, given, sender=stranger)


def test_submit_and_attest_reverts_on_a_repeated_operator(
    oracle, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence, (signature,) = _signed(relay, operators[:1], worker, job_id)

    with reverts(oracle.AlreadyAttested, jobId=job_id, operator=operators[0]):
        oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, [signature] * 2, sender=stranger)


def test_relayer_cannot_flip_the_verdict_or_swap_the_evidence(
    oracle, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence, signatures = _signed(relay, operators[:2], worker, job_id)
    other = relay.evidence(worker, job_id, evidence=b"another bundle")

    # Operators' signatures over another verdict or evidence recover strangers, never operators.
    with reverts(oracle.NotActiveOperator):
        oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), False, 0, signatures, sender=stranger)
    with reverts(oracle.NotActiveOperator):
        oracle.submitAndAttest(terms.as_abi(), other.as_abi(), True, 0, signatures, sender=stranger)
    with reverts(oracle.NotActiveOperator):
        oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 1, signatures, sender=stranger)


def test_relayer_cannot_change_the_terms(oracle, worker, stranger, operators, flow, make_terms, relay):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence, signatures = _signed(relay, operators[:2], worker, job_id)
    richer = terms.model_copy(update={"reward": terms.reward * 2})

    with reverts(oracle.NotActiveOperator):  # the signatures name the job id, the hash of the terms
        oracle.submitAndAttest(richer.as_abi(), evidence.as_abi(), True, 0, signatures, sender=stranger)


def test_submit_and_attest_reverts_when_the_worker_did_not_sign_the_evidence(
    escrow, oracle, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    forged = relay.evidence(stranger, job_id)
    signatures = relay.attestations(operators[:2], job_id, forged.evidence_hash)

    with reverts(escrow.InvalidSigner, jobId=job_id, signer=stranger, expected=worker):
        oracle.submitAndAttest(terms.as_abi(), forged.as_abi(), True, 0, signatures, sender=stranger)


def test_submit_and_attest_reverts_on_operator_signatures_for_another_chain(
    oracle, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence = relay.evidence(worker, job_id)
    signatures = relay.attestations(operators[:2], job_id, evidence.evidence_hash, chain_id=OTHER_CHAIN_ID)

    with reverts(oracle.NotActiveOperator):
        oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=stranger)


def test_submit_and_attest_reverts_after_the_evidence_deadline_and_after_resolve_by(
    chain, escrow, oracle, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence, signatures = _signed(relay, operators[:2], worker, job_id)
    late = relay.evidence(worker, job_id, deadline=terms.resolve_by + 3600)
    late_signatures = relay.attestations(operators[:2], job_id, late.evidence_hash)
    chain.pending_timestamp = evidence.deadline + 1

    with reverts(escrow.SignatureExpired, jobId=job_id, deadline=evidence.deadline):
        oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=stranger)

    chain.pending_timestamp = terms.resolve_by + 1
    with reverts(escrow.DeadlinePassed, jobId=job_id, deadline=terms.resolve_by):
        oracle.submitAndAttest(terms.as_abi(), late.as_abi(), True, 0, late_signatures, sender=stranger)


def test_submit_and_attest_reverts_when_replayed(
    escrow, oracle, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence, signatures = _signed(relay, operators[:2], worker, job_id)
    oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=stranger)

    with reverts(escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.PAID, expected=JobStatus.ACCEPTED):
        oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=stranger)


def test_only_the_oracle_records_evidence_and_verdict_together(
    escrow, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence = relay.evidence(worker, job_id)

    with reverts(escrow.CallerNotOracle, caller=stranger):
        escrow.recordEvidenceAndVerdict(terms.as_abi(), evidence.as_abi(), True, 0b1, sender=stranger)


def test_fallbacks_self_accept_self_submit_and_one_by_one_attestations_still_pay(
    escrow, usdc, worker, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    before = usdc.balanceOf(worker)

    flow.attest(job_id, evidence_hash, terms)

    assert usdc.balanceOf(worker) == before + terms.reward
    assert escrow.jobState(job_id)[0] == JobStatus.PAID


@pytest.fixture
def fiat_system(project, deployer, treasury, operators, worker, agent):
    """The protocol on TestFiatToken behind its proxy: what Polygon's native USDC costs."""
    token = deploy_fiat_usdc(project, deployer)
    system = deploy_local(project, deployer, treasury=treasury, token=token)
    add_operators(system, deployer, operators)
    fund(token, agent, 1_000 * USDC, system.escrow)
    register_worker(system, worker, 0b1, 0b1, 2)
    return system


def test_relayed_ticket_pays_the_worker_in_the_realistic_usdc(
    fiat_system, agent, worker, operators, stranger, chain, make_terms
):
    escrow, oracle, token = fiat_system.escrow, fiat_system.oracle, fiat_system.token
    relay = Relay(chain, escrow, oracle, fiat_system.registry)
    terms = make_terms()  # the session escrow quotes the same fees: both use PARAMS
    job_id = terms.digest()
    escrow.postJob(terms.as_abi(), sender=agent)
    escrow.acceptJobFor(terms.as_abi(), *relay.acceptance(worker, terms), sender=stranger)
    evidence, signatures = _signed(relay, operators[:2], worker, job_id)
    before = token.balanceOf(worker)

    tx = oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=operators[0])

    assert token.Transfer(escrow, worker, terms.reward) in tx.events
    assert token.balanceOf(worker) == before + terms.reward
    assert escrow.jobState(job_id)[0] == JobStatus.PAID
    assert token.balanceOf(escrow) == terms.oracle_fee + terms.protocol_fee  # credits + accrued fees
