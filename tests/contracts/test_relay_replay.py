"""Replays the other relay tests leave out: operators' signatures of one job or one oracle used on
another, a worker's evidence for one job relayed with another's verdict, and an availability switch
signed for another chain or contract. Each reverts and moves nothing."""

from devtools.reverts import reverts
from protocol_core.eip712 import sign_attestation
from protocol_core.enums import JobStatus

OTHER_CHAIN_ID = 137


def _accepted(flow, make_terms, worker):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)
    return terms, job_id


def test_submit_and_attest_reverts_on_attestations_signed_for_another_oracle(
    chain, escrow, oracle, worker, operators, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence = relay.evidence(worker, job_id)
    signatures = [
        sign_attestation(
            op.private_key,
            chain_id=chain.chain_id,
            oracle=str(escrow.address),
            job_id=job_id,
            evidence_hash=evidence.evidence_hash,
            approve=True,
            reason=0,
            set_nonce=oracle.setNonce(),
        )
        for op in operators[:2]
    ]

    with reverts(oracle.NotActiveOperator):
        oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=stranger)
    assert escrow.jobState(job_id)[0] == JobStatus.ACCEPTED


def test_submit_and_attest_reverts_on_another_jobs_attestations_and_evidence(
    escrow, oracle, worker, operators, stranger, flow, make_terms, relay
):
    terms_a, job_a = _accepted(flow, make_terms, worker)
    terms_b, job_b = _accepted(flow, make_terms, worker)
    evidence_a = relay.evidence(worker, job_a)
    signatures_a = relay.attestations(operators[:2], job_a, evidence_a.evidence_hash)

    with reverts(oracle.NotActiveOperator):  # job A's quorum recovers strangers on job B
        oracle.submitAndAttest(terms_b.as_abi(), evidence_a.as_abi(), True, 0, signatures_a, sender=stranger)
    signatures_b = relay.attestations(operators[:2], job_b, evidence_a.evidence_hash)
    with reverts(escrow.InvalidSigner, jobId=job_b, expected=worker):  # job A's evidence on job B
        oracle.submitAndAttest(terms_b.as_abi(), evidence_a.as_abi(), True, 0, signatures_b, sender=stranger)
    assert [escrow.jobState(job)[0] for job in (job_a, job_b)] == [JobStatus.ACCEPTED] * 2

    oracle.submitAndAttest(terms_a.as_abi(), evidence_a.as_abi(), True, 0, signatures_a, sender=stranger)
    assert escrow.jobState(job_a)[0] == JobStatus.PAID


def test_set_availability_for_reverts_when_signed_for_another_chain_or_contract(
    escrow, registry, worker, stranger, relay
):
    for signed in (
        relay.availability(worker, False, chain_id=OTHER_CHAIN_ID),
        relay.availability(worker, False, registry=escrow),
    ):
        with reverts(registry.InvalidSigner, worker=worker):
            registry.setAvailabilityFor(*signed, sender=stranger)
    assert registry.nonces(worker) == 0
