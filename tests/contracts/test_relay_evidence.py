"""Relayed evidence: the worker signs its evidence hash and URI, anyone puts them on chain."""

from eth_utils import keccak

from devtools.reverts import reverts
from protocol_core.eip712 import digest, evidence_message
from protocol_core.enums import JobStatus
from tests.contracts.relay_helpers import URI

OTHER_CHAIN_ID = 137


def _accepted(flow, make_terms, worker, **over):
    terms = make_terms(**over)
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)
    return terms, job_id


def test_submit_evidence_for_records_the_workers_evidence_sent_by_a_stranger(
    escrow, worker, stranger, flow, make_terms, relay
):
    _, job_id = _accepted(flow, make_terms, worker)
    evidence = relay.evidence(worker, job_id)
    nonce_before = worker.nonce

    tx = escrow.submitEvidenceFor(job_id, evidence.as_abi(), sender=stranger)

    assert tx.events == [escrow.EvidenceSubmitted(job_id, worker, evidence.evidence_hash, URI)]
    status, evidence_hash, verify_by = escrow.verificationContext(job_id)
    assert (status, evidence_hash) == (JobStatus.SUBMITTED, evidence.evidence_hash)
    assert verify_by == tx.timestamp + escrow.verificationWindow()
    assert worker.nonce == nonce_before


def test_evidence_digest_matches_the_sdk(chain, escrow):
    job_id, evidence_hash = keccak(b"job"), keccak(b"bundle")
    message = evidence_message(
        chain_id=chain.chain_id, escrow=str(escrow.address), job_id=job_id, evidence_hash=evidence_hash,
        uri=URI, deadline=1_900_000_000,
    )  # fmt: skip

    assert bytes(escrow.evidenceDigest(job_id, evidence_hash, URI, 1_900_000_000)) == digest(message)
    assert bytes(escrow.evidenceDigest(job_id, evidence_hash, URI + "x", 1_900_000_000)) != digest(message)


def test_submit_evidence_for_reverts_when_signed_by_someone_else(
    escrow, worker, stranger, flow, make_terms, relay
):
    _, job_id = _accepted(flow, make_terms, worker)

    with reverts(escrow.InvalidSigner, jobId=job_id, signer=stranger, expected=worker):
        escrow.submitEvidenceFor(job_id, relay.evidence(stranger, job_id).as_abi(), sender=stranger)


def test_submit_evidence_for_reverts_when_the_relayer_changes_the_uri(
    escrow, worker, stranger, flow, make_terms, relay
):
    _, job_id = _accepted(flow, make_terms, worker)
    hash_, _, deadline, signature = relay.evidence(worker, job_id).as_abi()

    with reverts(escrow.InvalidSigner, jobId=job_id, expected=worker):
        escrow.submitEvidenceFor(job_id, (hash_, "ipfs://elsewhere", deadline, signature), sender=stranger)


def test_submit_evidence_for_reverts_after_its_deadline(
    chain, escrow, worker, stranger, flow, make_terms, relay
):
    _, job_id = _accepted(flow, make_terms, worker)
    evidence = relay.evidence(worker, job_id)
    chain.pending_timestamp = evidence.deadline + 1

    with reverts(escrow.SignatureExpired, jobId=job_id, deadline=evidence.deadline):
        escrow.submitEvidenceFor(job_id, evidence.as_abi(), sender=stranger)


def test_submit_evidence_for_reverts_after_resolve_by(
    chain, escrow, worker, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence = relay.evidence(worker, job_id, deadline=terms.resolve_by + 3600)
    chain.pending_timestamp = terms.resolve_by + 1

    with reverts(escrow.DeadlinePassed, jobId=job_id, deadline=terms.resolve_by):
        escrow.submitEvidenceFor(job_id, evidence.as_abi(), sender=stranger)


def test_submit_evidence_for_reverts_when_signed_for_another_job(
    escrow, worker, stranger, flow, make_terms, relay
):
    _, signed_for = _accepted(flow, make_terms, worker)
    _, used_on = _accepted(flow, make_terms, worker)

    with reverts(escrow.InvalidSigner, jobId=used_on, expected=worker):
        escrow.submitEvidenceFor(used_on, relay.evidence(worker, signed_for).as_abi(), sender=stranger)


def test_submit_evidence_for_reverts_when_signed_for_another_chain_or_contract(
    escrow, oracle, worker, stranger, flow, make_terms, relay
):
    _, job_id = _accepted(flow, make_terms, worker)

    for evidence in (
        relay.evidence(worker, job_id, chain_id=OTHER_CHAIN_ID),
        relay.evidence(worker, job_id, escrow=oracle),
    ):
        with reverts(escrow.InvalidSigner, jobId=job_id, expected=worker):
            escrow.submitEvidenceFor(job_id, evidence.as_abi(), sender=stranger)


def test_submit_evidence_for_reverts_when_replayed(escrow, worker, stranger, flow, make_terms, relay):
    _, job_id = _accepted(flow, make_terms, worker)
    evidence = relay.evidence(worker, job_id)
    escrow.submitEvidenceFor(job_id, evidence.as_abi(), sender=stranger)

    with reverts(
        escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.SUBMITTED, expected=JobStatus.ACCEPTED
    ):
        escrow.submitEvidenceFor(job_id, evidence.as_abi(), sender=stranger)


def test_relayed_evidence_is_verified_one_attestation_at_a_time(
    escrow, usdc, worker, stranger, flow, make_terms, relay
):
    terms, job_id = _accepted(flow, make_terms, worker)
    evidence = relay.evidence(worker, job_id)
    escrow.submitEvidenceFor(job_id, evidence.as_abi(), sender=stranger)
    before = usdc.balanceOf(worker)

    *_, final = flow.attest(job_id, evidence.evidence_hash, terms)

    assert escrow.WorkerPaid(job_id, worker, terms.reward, terms.protocol_fee) in final.events
    assert usdc.balanceOf(worker) == before + terms.reward
