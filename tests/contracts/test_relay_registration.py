"""Relayed registration and availability: a worker with an empty wallet signs, an onboarder sends."""

import pytest

from devtools.reverts import reverts
from devtools.system import X25519_PLACEHOLDER
from protocol_core.eip712 import availability_message, registration_message
from protocol_core.enums import Ineligibility, JobStatus

OTHER_CHAIN_ID = 137


@pytest.fixture
def newcomer(accounts):
    """A worker's fresh key: no ETH, never sent a transaction."""
    account = accounts.generate_test_account()
    assert account.balance == 0
    return account


def test_register_for_registers_a_worker_with_an_empty_wallet(registry, newcomer, stranger, relay):
    tx = registry.registerFor(*relay.registration(newcomer, languages=0b101, capacity=3), sender=stranger)

    assert tx.events == [
        registry.WorkerRegistered(newcomer, 0b101, 0b1, 3, X25519_PLACEHOLDER, "ipfs://profile"),
        registry.AvailabilityChanged(newcomer, True),
    ]
    profile = registry.profile(newcomer)
    assert (profile.languages, profile.maxConcurrent, profile.available) == (0b101, 3, True)
    assert registry.encryptionKey(newcomer) == X25519_PLACEHOLDER
    assert registry.nonces(newcomer) == 1
    assert (newcomer.balance, newcomer.nonce) == (0, 0)


def test_registry_domain_matches_the_sdk(chain, registry, newcomer):
    fields = dict(chain_id=chain.chain_id, registry=str(registry.address), worker=str(newcomer.address))
    registration = registration_message(
        **fields, languages=1, expertise=1, max_concurrent=1, encryption_key=X25519_PLACEHOLDER,
        profile_uri="", nonce=0, deadline=0,
    )  # fmt: skip
    availability = availability_message(**fields, available=True, nonce=0, deadline=0)

    assert registration.header == availability.header == bytes(registry.domainSeparator())


def test_register_for_reverts_when_replayed(registry, newcomer, stranger, relay):
    signed = relay.registration(newcomer)
    registry.registerFor(*signed, sender=stranger)

    with reverts(registry.InvalidSigner, worker=newcomer):  # its nonce is used up
        registry.registerFor(*signed, sender=stranger)


def test_register_for_reverts_after_its_deadline(chain, registry, newcomer, stranger, relay):
    signed = relay.registration(newcomer)
    deadline = signed[6]
    chain.pending_timestamp = deadline + 1

    with reverts(registry.SignatureExpired, worker=newcomer, deadline=deadline):
        registry.registerFor(*signed, sender=stranger)


def test_register_for_reverts_when_someone_else_signs(registry, newcomer, stranger, relay):
    with reverts(registry.InvalidSigner, worker=newcomer, signer=stranger):
        registry.registerFor(*relay.registration(stranger, worker=newcomer), sender=stranger)


def test_register_for_reverts_when_the_relayer_changes_the_profile(registry, newcomer, stranger, relay):
    worker, _, *rest = relay.registration(newcomer, languages=0b1)

    with reverts(registry.InvalidSigner, worker=newcomer):
        registry.registerFor(worker, 0b11, *rest, sender=stranger)


def test_register_for_reverts_when_signed_for_another_chain_contract_or_nonce(
    registry, escrow, newcomer, stranger, relay
):
    for signed in (
        relay.registration(newcomer, chain_id=OTHER_CHAIN_ID),
        relay.registration(newcomer, registry=escrow),
        relay.registration(newcomer, nonce=1),
    ):
        with reverts(registry.InvalidSigner, worker=newcomer):
            registry.registerFor(*signed, sender=stranger)
    assert registry.nonces(newcomer) == 0


def test_register_for_keeps_the_profile_checks(registry, newcomer, stranger, relay):
    with reverts(registry.InvalidProfile, languages=0, maxConcurrent=2):
        registry.registerFor(*relay.registration(newcomer, languages=0), sender=stranger)


def test_set_availability_for_switches_a_worker_off_and_the_relay_then_refuses_its_acceptance(
    escrow, registry, newcomer, stranger, flow, make_terms, relay
):
    registry.registerFor(*relay.registration(newcomer), sender=stranger)

    tx = registry.setAvailabilityFor(*relay.availability(newcomer, False), sender=stranger)

    assert tx.events == [registry.AvailabilityChanged(newcomer, False)]
    assert registry.nonces(newcomer) == 2
    terms = make_terms()
    flow.post(terms)
    with reverts(registry.WorkerNotEligible, worker=newcomer, reason=Ineligibility.UNAVAILABLE):
        escrow.acceptJobFor(terms.as_abi(), *relay.acceptance(newcomer, terms), sender=stranger)


def test_set_availability_for_reverts_when_replayed_or_late_or_unregistered(
    chain, registry, newcomer, worker, stranger, relay
):
    with reverts(registry.WorkerNotRegistered, worker=newcomer):
        registry.setAvailabilityFor(*relay.availability(newcomer, False), sender=stranger)

    signed = relay.availability(worker, False)
    registry.setAvailabilityFor(*signed, sender=stranger)
    with reverts(registry.InvalidSigner, worker=worker):
        registry.setAvailabilityFor(*signed, sender=stranger)

    late = relay.availability(worker, True)
    chain.pending_timestamp = late[2] + 1
    with reverts(registry.SignatureExpired, worker=worker, deadline=late[2]):
        registry.setAvailabilityFor(*late, sender=stranger)


def test_a_worker_who_never_holds_pol_is_registered_hired_and_paid(
    escrow, oracle, registry, usdc, newcomer, operators, stranger, flow, make_terms, relay
):
    registry.registerFor(*relay.registration(newcomer), sender=stranger)
    terms = make_terms()
    job_id, _ = flow.post(terms)
    escrow.acceptJobFor(terms.as_abi(), *relay.acceptance(newcomer, terms), sender=stranger)
    evidence = relay.evidence(newcomer, job_id)
    signatures = relay.attestations(operators[:2], job_id, evidence.evidence_hash)

    oracle.submitAndAttest(terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=operators[0])

    assert escrow.jobState(job_id)[:2] == (JobStatus.PAID, newcomer.address)
    assert usdc.balanceOf(newcomer) == terms.reward
    assert (newcomer.balance, newcomer.nonce) == (0, 0)
