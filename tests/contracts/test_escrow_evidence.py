"""Evidence: the assigned worker commits to its bundle's hash and URI before resolve-by."""

from eth_utils import keccak

from devtools.reverts import reverts
from devtools.system import PARAMS, ZERO_HASH
from protocol_core.enums import JobStatus


def test_submit_records_evidence_and_opens_verification(escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)
    evidence_hash = keccak(b"bundle")

    tx = escrow.submitEvidence(job_id, evidence_hash, "ipfs://bafy-bundle", sender=worker)

    assert tx.events == [escrow.EvidenceSubmitted(job_id, worker, evidence_hash, "ipfs://bafy-bundle")]
    verify_by = tx.timestamp + PARAMS.verification_window
    assert escrow.verificationContext(job_id) == (JobStatus.SUBMITTED, evidence_hash, verify_by)
    assert escrow.jobState(job_id) == (JobStatus.SUBMITTED, worker.address, verify_by)


def test_verification_context_has_no_evidence_before_submission(escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)

    assert escrow.verificationContext(job_id) == (JobStatus.ACCEPTED, ZERO_HASH, terms.resolve_by)


def test_verification_context_forgets_evidence_after_settlement(escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    flow.attest(job_id, evidence_hash, terms)

    status, stored_hash, _ = escrow.verificationContext(job_id)

    assert (status, stored_hash) == (JobStatus.PAID, ZERO_HASH)


def test_submit_reverts_when_caller_not_assigned_worker(escrow, worker, other_worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)

    with reverts(escrow.Unauthorized, jobId=job_id, caller=other_worker):
        escrow.submitEvidence(job_id, keccak(b"bundle"), "ipfs://bundle", sender=other_worker)


def test_submit_works_at_exactly_resolve_by(chain, escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)
    chain.pending_timestamp = terms.resolve_by

    tx = escrow.submitEvidence(job_id, keccak(b"bundle"), "ipfs://bundle", sender=worker)

    assert tx.timestamp == terms.resolve_by
    assert escrow.jobState(job_id)[0] == JobStatus.SUBMITTED


def test_submit_reverts_one_second_after_resolve_by(chain, escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)
    chain.pending_timestamp = terms.resolve_by + 1

    with reverts(escrow.DeadlinePassed, jobId=job_id, deadline=terms.resolve_by):
        escrow.submitEvidence(job_id, keccak(b"bundle"), "ipfs://bundle", sender=worker)


def test_submit_reverts_when_evidence_hash_empty(escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)

    with reverts(escrow.EmptyEvidence, jobId=job_id):
        escrow.submitEvidence(job_id, ZERO_HASH, "ipfs://bundle", sender=worker)


def test_submit_reverts_when_uri_empty(escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)

    with reverts(escrow.EmptyEvidence, jobId=job_id):
        escrow.submitEvidence(job_id, keccak(b"bundle"), "", sender=worker)


def test_submit_reverts_when_job_not_accepted(escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)

    with reverts(escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.OPEN, expected=JobStatus.ACCEPTED):
        escrow.submitEvidence(job_id, keccak(b"bundle"), "ipfs://bundle", sender=worker)


def test_submit_reverts_when_evidence_already_submitted(escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.submitted(terms, worker)

    with reverts(
        escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.SUBMITTED, expected=JobStatus.ACCEPTED
    ):
        escrow.submitEvidence(job_id, keccak(b"other bundle"), "ipfs://other", sender=worker)
