"""Relayed acceptance: the worker signs, anyone sends; the escrow checks what a direct accept checks."""

from eth_utils import keccak

from devtools.reverts import reverts
from protocol_core.eip712 import acceptance_message, digest
from protocol_core.enums import Ineligibility, JobStatus
from tests.contracts.relay_helpers import high_s as relay_high_s

ANVIL_CHAIN_ID = 31337
OTHER_CHAIN_ID = 137


def test_accept_for_assigns_the_signer_and_the_worker_sends_nothing(
    escrow, registry, worker, stranger, flow, make_terms, relay
):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    nonce_before = worker.nonce

    tx = escrow.acceptJobFor(terms.as_abi(), *relay.acceptance(worker, terms), sender=stranger)

    assert tx.events == [
        escrow.JobAccepted(job_id, worker),
        registry.WorkRecorded(worker, activeJobs=1, completed=0, missedDeadlines=0, disputesLost=0),
    ]
    assert tx.sender == stranger.address
    assert escrow.jobState(job_id) == (JobStatus.ACCEPTED, worker.address, terms.resolve_by)
    assert worker.nonce == nonce_before


def test_acceptance_digest_matches_the_sdk(chain, escrow, worker):
    job_id, deadline = keccak(b"job"), 1_900_000_000
    message = acceptance_message(
        chain_id=chain.chain_id, escrow=str(escrow.address), job_id=job_id, worker=str(worker.address),
        deadline=deadline,
    )  # fmt: skip

    assert bytes(escrow.acceptanceDigest(job_id, worker, deadline)) == digest(message)
    assert bytes(escrow.acceptanceDigest(job_id, worker, deadline + 1)) != digest(message)


def test_accept_for_works_at_the_deadline_and_reverts_a_second_after(
    chain, escrow, worker, stranger, flow, make_terms, relay
):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    worker_address, deadline, signature = relay.acceptance(worker, terms)
    chain.pending_timestamp = deadline + 1

    with reverts(escrow.SignatureExpired, jobId=job_id, deadline=deadline):
        escrow.acceptJobFor(terms.as_abi(), worker_address, deadline, signature, sender=stranger)

    fresh = make_terms()
    fresh_id, _ = flow.post(fresh)
    worker_address, deadline, signature = relay.acceptance(worker, fresh)
    chain.pending_timestamp = deadline
    escrow.acceptJobFor(fresh.as_abi(), worker_address, deadline, signature, sender=stranger)
    assert escrow.jobState(fresh_id)[0] == JobStatus.ACCEPTED


def test_accept_for_reverts_when_signed_for_another_job(escrow, worker, stranger, flow, make_terms, relay):
    signed_for, used_on = make_terms(), make_terms()
    flow.post(signed_for)
    job_id, _ = flow.post(used_on)
    worker_address, deadline, signature = relay.acceptance(worker, signed_for)

    with reverts(escrow.InvalidSigner, jobId=job_id, expected=worker):
        escrow.acceptJobFor(used_on.as_abi(), worker_address, deadline, signature, sender=stranger)


def test_accept_for_reverts_when_replayed_on_the_same_job(escrow, worker, stranger, flow, make_terms, relay):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    acceptance = relay.acceptance(worker, terms)
    escrow.acceptJobFor(terms.as_abi(), *acceptance, sender=stranger)

    with reverts(escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.ACCEPTED, expected=JobStatus.OPEN):
        escrow.acceptJobFor(terms.as_abi(), *acceptance, sender=stranger)


def test_accept_for_reverts_when_signed_for_another_chain(
    chain, escrow, worker, stranger, flow, make_terms, relay
):
    assert chain.chain_id == ANVIL_CHAIN_ID
    terms = make_terms()
    job_id, _ = flow.post(terms)

    with reverts(escrow.InvalidSigner, jobId=job_id, expected=worker):
        escrow.acceptJobFor(
            terms.as_abi(), *relay.acceptance(worker, terms, chain_id=OTHER_CHAIN_ID), sender=stranger
        )


def test_accept_for_reverts_when_signed_for_another_contract(
    escrow, oracle, worker, stranger, flow, make_terms, relay
):
    terms = make_terms()
    job_id, _ = flow.post(terms)

    with reverts(escrow.InvalidSigner, jobId=job_id, expected=worker):
        escrow.acceptJobFor(terms.as_abi(), *relay.acceptance(worker, terms, escrow=oracle), sender=stranger)


def test_accept_for_reverts_when_someone_else_signs_for_the_worker(
    escrow, worker, stranger, flow, make_terms, relay
):
    terms = make_terms()
    job_id, _ = flow.post(terms)

    with reverts(escrow.InvalidSigner, jobId=job_id, signer=stranger, expected=worker):
        escrow.acceptJobFor(
            terms.as_abi(), *relay.acceptance(stranger, terms, worker=worker), sender=stranger
        )


def test_accept_for_reverts_when_the_worker_is_not_eligible(
    escrow, registry, other_worker, stranger, flow, make_terms, relay
):
    terms = make_terms(language=0)  # other_worker speaks language 1 only
    flow.post(terms)

    with reverts(registry.WorkerNotEligible, worker=other_worker, reason=Ineligibility.LANGUAGE):
        escrow.acceptJobFor(terms.as_abi(), *relay.acceptance(other_worker, terms), sender=stranger)


def test_accept_for_reverts_when_offered_to_another_worker(
    escrow, worker, other_worker, stranger, flow, make_terms, relay
):
    terms = make_terms(language=1, offered_to=str(other_worker.address))
    job_id, _ = flow.post(terms)

    with reverts(escrow.Unauthorized, jobId=job_id, caller=worker):
        escrow.acceptJobFor(terms.as_abi(), *relay.acceptance(worker, terms), sender=stranger)


def test_accept_for_reverts_on_a_high_s_signature(escrow, worker, stranger, flow, make_terms, relay):
    terms = make_terms()
    flow.post(terms)
    worker_address, deadline, signature = relay.acceptance(worker, terms)
    twin = relay_high_s(signature)

    with reverts(escrow.ECDSAInvalidSignatureS):
        escrow.acceptJobFor(terms.as_abi(), worker_address, deadline, twin, sender=stranger)


def test_accept_for_reverts_on_a_signature_recovering_no_one(
    escrow, worker, stranger, flow, make_terms, relay
):
    terms = make_terms()
    flow.post(terms)
    worker_address, deadline, _ = relay.acceptance(worker, terms)

    with reverts(escrow.ECDSAInvalidSignature):
        escrow.acceptJobFor(
            terms.as_abi(), worker_address, deadline, [b"\x00" * 32, b"\x00" * 32], sender=stranger
        )


def test_worker_still_accepts_itself_after_signing_for_a_relayer(escrow, worker, flow, make_terms, relay):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    relay.acceptance(worker, terms)  # signed and handed out, never sent

    escrow.acceptJob(terms.as_abi(), sender=worker)

    assert escrow.jobState(job_id)[:2] == (JobStatus.ACCEPTED, worker.address)
