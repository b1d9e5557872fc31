"""The matcher's hard constraints against the real WorkerRegistry on the session chain: for random profiles
and requirements, the matcher's eligible set is exactly the workers whose `eligibility` is `None`."""

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation.matching.eligibility import eligibility, may_accept
from escalation.matching.model import JobNeed
from escalation.matching.pool import Pool
from protocol_core.enums import Ineligibility

settings.register_profile(
    "matching-contract", max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
PROFILE = settings.get_profile("matching-contract")
KEY = b"\x11" * 32


@dataclass(frozen=True)
class Record:
    address: str
    languages: int
    expertise: int
    certifications: int
    max_concurrent: int
    active_jobs: int
    available: bool
    completed: int = 0
    missed_deadlines: int = 0
    disputes_lost: int = 0


# Few bits, so that random requirements hit and miss about equally often.
profiles = st.fixed_dictionaries({
    "languages": st.integers(1, 2**4 - 1) | st.just(2**63),
    "expertise": st.integers(0, 2**4 - 1) | st.just(2**64 - 1),
    "certifications": st.integers(0, 2**3 - 1),
    "max_concurrent": st.integers(1, 3),
    "active": st.integers(0, 3),
    "available": st.booleans(),
})  # fmt: skip
requirements = st.tuples(st.integers(0, 5) | st.sampled_from([63, 64, 200]), st.integers(0, 2**4 - 1),
                         st.integers(0, 2**3 - 1))  # fmt: skip


@settings(PROFILE)
@given(profile=profiles, reqs=st.lists(requirements, min_size=1, max_size=6))
def test_matcher_eligible_set_equals_the_registry(
    chain, accounts, system, certifier, stranger, profile, reqs
):
    registry = system.registry
    escrow = accounts.impersonate_account(system.escrow.address)
    chain.provider.set_balance(escrow.address, 10**20)
    with chain.isolate():
        registry.register(profile["languages"], profile["expertise"], profile["max_concurrent"], KEY, "",
                          sender=stranger)  # fmt: skip
        if profile["certifications"]:
            registry.grantCertifications(stranger, profile["certifications"], sender=certifier)
        active = min(profile["active"], profile["max_concurrent"])
        spoken = (profile["languages"] & -profile["languages"]).bit_length() - 1
        for _ in range(active):  # the escrow's startJob is the only way capacity gets used
            registry.startJob(stranger, (spoken, 0, 0), sender=escrow)
        if not profile["available"]:
            registry.setAvailability(False, sender=stranger)
        record = Record(
            str(stranger.address), profile["languages"], profile["expertise"], profile["certifications"],
            profile["max_concurrent"], active, profile["available"],
        )  # fmt: skip
        needs = [JobNeed(lang, exp, cert) for lang, exp, cert in reqs]
        mask = Pool([record]).eligible(needs)[:, 0]
        for need, vector in zip(needs, mask, strict=True):
            on_chain = Ineligibility(registry.eligibility(stranger, (need.language, need.expertise,
                                                                     need.certifications)))  # fmt: skip
            assert eligibility(record, need) == on_chain
            assert bool(vector) == (on_chain == Ineligibility.NONE) == may_accept(record, need)


def test_unregistered_worker_is_refused_like_the_registry(system, stranger):
    record = Record(str(stranger.address), 0, 0, 0, 0, 0, False)
    on_chain = Ineligibility(system.registry.eligibility(stranger, (0, 0, 0)))
    assert on_chain == eligibility(record, JobNeed(0)) == Ineligibility.NOT_REGISTERED
    assert len(Pool([record])) == 0


def test_job_offered_to_another_worker_is_refused_as_the_escrow_would(stranger, worker):
    record = Record(str(stranger.address), 1, 1, 0, 2, 0, True)
    assert may_accept(record, JobNeed(0, 1, offered_to=str(stranger.address).lower()))
    assert not may_accept(record, JobNeed(0, 1, offered_to=str(worker.address)))
    assert not Pool([record]).eligible([JobNeed(0, 1, offered_to=str(worker.address))]).any()
