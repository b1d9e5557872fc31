"""Worker registry: profiles, availability, certifications, eligibility, escrow-written reputation."""

import pytest
from eth_utils import keccak

from devtools.reverts import reverts
from devtools.system import ZERO_HASH
from protocol_core.enums import Ineligibility, JobStatus

KEY = keccak(b"x25519 key")


def _requirements(language=0, expertise=0b1, certifications=0):
    return (language, expertise, certifications)


def test_register_emits_full_profile_and_makes_worker_available(registry, stranger):
    tx = registry.register(0b101, 0b110, 3, KEY, "ipfs://profile", sender=stranger)

    assert tx.events == [
        registry.WorkerRegistered(stranger, 0b101, 0b110, 3, KEY, "ipfs://profile"),
        registry.AvailabilityChanged(stranger, True),
    ]
    p = registry.profile(stranger)
    assert (p.languages, p.expertise, p.maxConcurrent, p.available) == (0b101, 0b110, 3, True)
    assert (p.certifications, p.activeJobs, p.completed, p.missedDeadlines, p.disputesLost) == (0,) * 5
    assert registry.encryptionKey(stranger) == KEY


def test_register_update_keeps_certifications_reputation_and_availability(
    registry, certifier, worker, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    flow.attest(job_id, evidence_hash, terms)
    registry.grantCertifications(worker, 0b11, sender=certifier)
    registry.setAvailability(False, sender=worker)
    new_key = keccak(b"rotated key")

    tx = registry.register(0b1000, 0b10, 5, new_key, "ipfs://v2", sender=worker)

    assert tx.events == [registry.WorkerRegistered(worker, 0b1000, 0b10, 5, new_key, "ipfs://v2")]
    p = registry.profile(worker)
    assert (p.languages, p.expertise, p.maxConcurrent) == (0b1000, 0b10, 5)
    assert (p.certifications, p.completed, p.available) == (0b11, 1, False)
    assert registry.encryptionKey(worker) == new_key


@pytest.mark.parametrize(
    ("languages", "max_concurrent", "key"),
    [(0, 1, KEY), (1, 0, KEY), (1, 1, ZERO_HASH)],
    ids=["no-language", "no-capacity", "no-key"],
)
def test_register_reverts_when_profile_invalid(registry, stranger, languages, max_concurrent, key):
    with reverts(
        registry.InvalidProfile, languages=languages, maxConcurrent=max_concurrent, encryptionKey=key
    ):
        registry.register(languages, 0, max_concurrent, key, "ipfs://p", sender=stranger)
    assert registry.profile(stranger).maxConcurrent == 0


def test_set_availability_switches_eligibility(registry, worker):
    tx = registry.setAvailability(False, sender=worker)

    assert tx.events == [registry.AvailabilityChanged(worker, False)]
    assert registry.eligibility(worker, _requirements()) == Ineligibility.UNAVAILABLE

    registry.setAvailability(True, sender=worker)
    assert registry.eligibility(worker, _requirements()) == Ineligibility.NONE


def test_set_availability_reverts_when_not_registered(registry, stranger):
    with reverts(registry.WorkerNotRegistered, worker=stranger):
        registry.setAvailability(True, sender=stranger)


def test_certifier_grants_and_revokes_certifications(registry, certifier, worker):
    granted = registry.grantCertifications(worker, 0b101, sender=certifier)
    more = registry.grantCertifications(worker, 0b010, sender=certifier)
    revoked = registry.revokeCertifications(worker, 0b001, sender=certifier)

    assert granted.events == [registry.CertificationsChanged(worker, certifier, 0b101)]
    assert more.events == [registry.CertificationsChanged(worker, certifier, 0b111)]
    assert revoked.events == [registry.CertificationsChanged(worker, certifier, 0b110)]
    assert registry.profile(worker).certifications == 0b110


@pytest.mark.parametrize("function", ["grantCertifications", "revokeCertifications"])
def test_certifications_revert_when_caller_lacks_certifier_role(registry, worker, function):
    role = registry.CERTIFIER_ROLE()

    with reverts(registry.AccessControlUnauthorizedAccount, account=worker, neededRole=role):
        getattr(registry, function)(worker, 0b1, sender=worker)
    assert registry.profile(worker).certifications == 0


def test_certifications_revert_when_worker_not_registered(registry, certifier, stranger):
    with reverts(registry.WorkerNotRegistered, worker=stranger):
        registry.grantCertifications(stranger, 0b1, sender=certifier)


@pytest.mark.parametrize(
    ("who", "req", "reason"),
    [
        ("worker", _requirements(), Ineligibility.NONE),
        ("stranger", _requirements(), Ineligibility.NOT_REGISTERED),
        ("unavailable", _requirements(), Ineligibility.UNAVAILABLE),
        ("worker", _requirements(language=2), Ineligibility.LANGUAGE),
        ("worker", _requirements(language=64), Ineligibility.LANGUAGE),
        ("worker", _requirements(expertise=0b11), Ineligibility.EXPERTISE),
        ("worker", _requirements(certifications=0b1), Ineligibility.CERTIFICATION),
        ("at-capacity", _requirements(language=1), Ineligibility.AT_CAPACITY),
    ],
    ids=lambda v: v.name if isinstance(v, Ineligibility) else None,
)
def test_eligibility_names_first_failing_reason(
    registry, worker, other_worker, stranger, flow, make_terms, who, req, reason
):
    account = {"worker": worker, "stranger": stranger, "unavailable": worker}.get(who, other_worker)
    if who == "unavailable":
        registry.setAvailability(False, sender=worker)
    if who == "at-capacity":  # other_worker takes one job at a time
        terms = make_terms(language=1)
        job_id, _ = flow.post(terms)
        flow.accept(job_id, terms, other_worker)

    assert registry.eligibility(account, req) == reason


def test_eligibility_checks_availability_before_requirements(registry, worker):
    registry.setAvailability(False, sender=worker)

    assert registry.eligibility(worker, _requirements(language=9, certifications=1)) == (
        Ineligibility.UNAVAILABLE
    )


@pytest.mark.parametrize(
    ("function", "args"),
    [
        ("startJob", lambda w: (w, _requirements())),
        ("finishJob", lambda w: (w, 1)),
        ("recordCompletion", lambda w: (w,)),
        ("recordDisputeLost", lambda w: (w,)),
    ],
)
def test_escrow_only_writers_revert_for_anyone_else(registry, worker, stranger, function, args):
    with reverts(registry.CallerNotEscrow, caller=stranger):
        getattr(registry, function)(*args(worker), sender=stranger)
    assert registry.profile(worker).activeJobs == 0


def test_completed_counts_payout_without_window(registry, worker, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)

    flow.attest(job_id, evidence_hash, terms)

    p = registry.profile(worker)
    assert (p.activeJobs, p.completed, p.missedDeadlines) == (0, 1, 0)


def test_completed_counts_payout_only_after_window(
    chain, escrow, registry, worker, stranger, flow, make_terms
):
    terms = make_terms(challenge_window=60)
    job_id, evidence_hash = flow.submitted(terms, worker)
    flow.attest(job_id, evidence_hash, terms)
    assert registry.profile(worker).completed == 0

    chain.pending_timestamp = escrow.jobState(job_id)[2] + 1
    escrow.settle(terms.as_abi(), sender=stranger)

    assert registry.profile(worker).completed == 1


def test_rejection_counts_neither_completion_nor_miss(registry, worker, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)

    flow.attest(job_id, evidence_hash, terms, approve=False)

    p = registry.profile(worker)
    assert (p.activeJobs, p.completed, p.missedDeadlines) == (0, 0, 0)


def test_missed_deadlines_counts_settle_past_resolve_by(
    chain, escrow, registry, worker, stranger, flow, make_terms
):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)
    chain.pending_timestamp = terms.resolve_by + 1

    escrow.settle(terms.as_abi(), sender=stranger)

    p = registry.profile(worker)
    assert (p.activeJobs, p.completed, p.missedDeadlines) == (0, 0, 1)


def test_accept_reverts_at_capacity_until_a_verdict_frees_a_slot(escrow, registry, worker, flow, make_terms):
    first, second, third = make_terms(), make_terms(), make_terms()
    for terms in (first, second, third):
        flow.post(terms)
    first_id = first.digest()
    flow.accept(first_id, first, worker)
    flow.accept(second.digest(), second, worker)
    assert registry.profile(worker).activeJobs == registry.profile(worker).maxConcurrent == 2

    with reverts(registry.WorkerNotEligible, worker=worker, reason=Ineligibility.AT_CAPACITY):
        escrow.acceptJob(third.as_abi(), sender=worker)

    evidence_hash, _ = flow.submit(first_id, worker)
    flow.attest(first_id, evidence_hash, first)
    escrow.acceptJob(third.as_abi(), sender=worker)

    assert escrow.jobState(third.digest())[0] == JobStatus.ACCEPTED
    assert registry.profile(worker).activeJobs == 2
