"""Acceptance and cancellation: who may take an open job, until when, and the agent's way out."""

from devtools.reverts import reverts
from protocol_core.enums import Ineligibility, JobStatus, RefundReason
from protocol_core.terms import ZERO_ADDRESS


def test_accept_assigns_worker_and_takes_a_capacity_slot(escrow, registry, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)

    tx = escrow.acceptJob(terms.as_abi(), sender=worker)

    assert tx.events == [
        escrow.JobAccepted(job_id, worker),
        registry.WorkRecorded(worker, activeJobs=1, completed=0, missedDeadlines=0, disputesLost=0),
    ]
    assert escrow.jobState(job_id) == (JobStatus.ACCEPTED, worker.address, terms.resolve_by)
    assert registry.profile(worker).activeJobs == 1


def test_accept_reverts_when_offered_to_another_worker(escrow, worker, other_worker, flow, make_terms):
    # Language 1 is spoken by both workers, so only the offer keeps `worker` out.
    terms = make_terms(language=1, offered_to=str(other_worker.address))
    job_id, _ = flow.post(terms)

    with reverts(escrow.Unauthorized, jobId=job_id, caller=worker):
        escrow.acceptJob(terms.as_abi(), sender=worker)

    escrow.acceptJob(terms.as_abi(), sender=other_worker)
    assert escrow.jobState(job_id)[:2] == (JobStatus.ACCEPTED, other_worker.address)


def test_accept_works_at_exactly_accept_by(chain, escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    chain.pending_timestamp = terms.accept_by

    tx = escrow.acceptJob(terms.as_abi(), sender=worker)

    assert tx.timestamp == terms.accept_by
    assert escrow.jobState(job_id)[0] == JobStatus.ACCEPTED


def test_accept_reverts_one_second_after_accept_by(chain, escrow, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    chain.pending_timestamp = terms.accept_by + 1

    with reverts(escrow.DeadlinePassed, jobId=job_id, deadline=terms.accept_by):
        escrow.acceptJob(terms.as_abi(), sender=worker)
    assert escrow.jobState(job_id)[0] == JobStatus.OPEN


def test_accept_reverts_when_worker_lacks_certification(registry, escrow, worker, flow, make_terms):
    terms = make_terms(certifications=0b100)
    flow.post(terms)

    with reverts(registry.WorkerNotEligible, worker=worker, reason=Ineligibility.CERTIFICATION):
        escrow.acceptJob(terms.as_abi(), sender=worker)


def test_accept_reverts_when_caller_not_registered(registry, escrow, stranger, flow, make_terms):
    terms = make_terms()
    flow.post(terms)

    with reverts(registry.WorkerNotEligible, worker=stranger, reason=Ineligibility.NOT_REGISTERED):
        escrow.acceptJob(terms.as_abi(), sender=stranger)


def test_accept_reverts_when_already_accepted(escrow, worker, other_worker, flow, make_terms):
    terms = make_terms(language=1)
    job_id, _ = flow.post(terms)
    escrow.acceptJob(terms.as_abi(), sender=worker)

    with reverts(escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.ACCEPTED, expected=JobStatus.OPEN):
        escrow.acceptJob(terms.as_abi(), sender=other_worker)


def test_accept_reverts_when_terms_never_posted(escrow, worker, make_terms):
    terms = make_terms()

    with reverts(escrow.JobNotInStatus, jobId=terms.digest(), actual=JobStatus.NONE, expected=JobStatus.OPEN):
        escrow.acceptJob(terms.as_abi(), sender=worker)


def test_cancel_refunds_everything_to_agent(escrow, usdc, agent, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    before = usdc.balanceOf(agent)

    tx = escrow.cancelJob(terms.as_abi(), sender=agent)

    assert tx.events == [
        escrow.AgentRefunded(job_id, agent, terms.total, RefundReason.CANCELLED),
        usdc.Transfer(escrow, agent, terms.total),
    ]
    assert usdc.balanceOf(agent) == before + terms.total
    assert usdc.balanceOf(escrow) == 0
    assert escrow.jobState(job_id) == (JobStatus.REFUNDED, ZERO_ADDRESS, terms.accept_by)


def test_cancel_reverts_when_caller_not_agent(escrow, stranger, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)

    with reverts(escrow.Unauthorized, jobId=job_id, caller=stranger):
        escrow.cancelJob(terms.as_abi(), sender=stranger)


def test_cancel_reverts_after_acceptance(escrow, agent, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)

    with reverts(escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.ACCEPTED, expected=JobStatus.OPEN):
        escrow.cancelJob(terms.as_abi(), sender=agent)


def test_cancel_reverts_when_already_cancelled(escrow, agent, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    escrow.cancelJob(terms.as_abi(), sender=agent)

    with reverts(escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.REFUNDED, expected=JobStatus.OPEN):
        escrow.cancelJob(terms.as_abi(), sender=agent)


def test_accept_reverts_after_cancel(escrow, agent, worker, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    escrow.cancelJob(terms.as_abi(), sender=agent)

    with reverts(escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.REFUNDED, expected=JobStatus.OPEN):
        escrow.acceptJob(terms.as_abi(), sender=worker)
