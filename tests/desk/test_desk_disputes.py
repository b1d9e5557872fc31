"""Disputes the desk brings after a verdict, on the session chain with its oracle operators attesting:
each drawn arbitrator opens the case file re-sealed to its own key (and nobody else's key opens it),
the desk appeals a ruling it lost and the next panel gets its case files; and the desk on PostgreSQL."""

import json

import pytest
from nacl.public import PrivateKey

from devtools.system import USDC
from escalation.desk.requests import DeskStatus
from protocol_core.case_index import case_files_in
from protocol_core.content import ContentClient, FolderStore
from protocol_core.enums import RulingOption
from protocol_core.sealing import WrongKey, open_sealed
from protocol_core.terms import JobTerms
from tests.contracts.arbitration_helpers import everyone, vote_round
from tests.contracts.conftest import arbitrators  # noqa: F401  (the session's staked arbitrators)
from tests.desk.conftest import follow, request
from tests.desk.test_desk_follow import terms_of


@pytest.fixture
def panel_keys(arbitrators, system):  # noqa: F811
    """The session's staked arbitrators, each with an X25519 key registered in the WorkerRegistry."""
    keys = {}
    for address, arbitrator in arbitrators.items():
        keys[address] = PrivateKey.generate()
        system.registry.register(1, 0, 1, bytes(keys[address].public_key), "ipfs://arb", sender=arbitrator)
    return arbitrators, keys


def approved_job(service, system, worker, operators) -> tuple[str, JobTerms]:
    """A job the desk posted, the worker accepted and submitted, and two operators approved."""
    view = service.desk.escalate(request(challenge_window_s=3_600))
    follow(service, view.desk_id, "open")
    terms = terms_of(service, view.desk_id)
    system.escrow.acceptJob(terms.as_abi(), sender=worker)
    job_id = terms.digest()
    evidence = b"\x11" * 32
    system.escrow.submitEvidence(job_id, evidence, "ipfs://bundle", sender=worker)
    for operator in operators[:2]:
        system.oracle.attest(job_id, evidence, True, 0, terms.as_abi(), sender=operator)
    follow(service, view.desk_id, "approved")
    return view.desk_id, terms


def keys_for_panel(system, accounts, pool, dispute_id, round_index, keys) -> list[str]:
    """The drawn panel, each member with a registered X25519 key: arbitrators staked in the session's
    pool by other modules (ape test accounts too) get one here, so the test holds whoever is drawn."""
    panel = [str(a) for a in pool.roundOf(dispute_id, round_index).panel]
    for address in panel:
        if address not in keys:
            keys[address] = PrivateKey.generate()
            system.registry.register(1, 0, 1, bytes(keys[address].public_key), "ipfs://arb",
                                     sender=accounts[address])  # fmt: skip
    return panel


def opened_case_files(service, tmp_path, desk_id, keys) -> dict[str, dict]:
    """Each arbitrator's sealed case file, fetched from the store and opened with its own key."""
    reader = ContentClient(folder=FolderStore(tmp_path / "blobs"))
    cases = {}
    for seal in service.desk.view(desk_id).seals:
        if seal.role == "arbitrator":
            blob = reader.get(seal.uri, seal.blob)
            agent = service.desk.agent.address
            cases[seal.reader] = json.loads(
                open_sealed(blob, keys[seal.reader], expected_sender=agent, kind="case")
            )
            other = next(k for a, k in keys.items() if a != seal.reader)
            with pytest.raises(WrongKey):
                open_sealed(blob, other, expected_sender=agent)
    return cases


def published_case_files(system, chain, job_id: bytes, agent: str) -> dict[str, str]:
    """The case files the agent named in the dispute's ERC-1497 evidence, by reader."""
    named: dict[str, str] = {}
    for log in system.escrow.Evidence.range(0, chain.blocks.height + 1):
        if log.evidenceGroupId == int.from_bytes(job_id, "big") and case_files_in(log.evidence):
            assert log.party == agent
            named.update(case_files_in(log.evidence))
    return named


def test_dispute_after_a_verdict_reseals_to_each_arbitrator_and_appeals(
    make_desk, system, chain, accounts, sealed_worker, operators, panel_keys, tmp_path
):
    worker, _ = sealed_worker
    staked, keys = panel_keys
    service = make_desk()
    desk_id, terms = approved_job(service, system, worker, operators)
    service.desk.dispute(desk_id, "the customer says the charge was never refunded")
    follow(service, desk_id, "disputed")
    dispute_id = service.desk.view(desk_id).dispute_id
    assert dispute_id
    chain.mine(2)  # the randomness commits to the next block's hash
    system.arbitrator.draw(dispute_id, sender=worker)
    panel = keys_for_panel(system, accounts, system.arbitrator, dispute_id, 0, keys)
    service.follower.run_once()  # the Drawn logs: a case file per drawn arbitrator
    first = opened_case_files(service, tmp_path, desk_id, keys)
    assert set(first) == set(panel) and len(panel) == 3
    sealed = {s.reader.lower(): s.uri for s in service.desk.view(desk_id).seals if s.role == "arbitrator"}
    agent = service.desk.agent.address
    assert published_case_files(system, chain, terms.digest(), agent) == sealed
    service.follower.run_once()  # nothing new: nothing named twice
    assert len(published_case_files(system, chain, terms.digest(), agent)) == 3
    for case in first.values():
        assert case["job_id"] == "0x" + terms.digest().hex()
        assert case["context"]["ticket_ref"] == service.desk.view(desk_id).ticket_ref
    # The panel rules for the worker; the desk appeals the ruling it lost and the next panel reads too.
    signers = {**staked, **{address: accounts[address] for address in panel}}
    vote_round(system.arbitrator, chain, dispute_id, signers, everyone(RulingOption.PAY_WORKER))
    service.desk.appeal(desk_id)
    chain.mine(2)
    system.arbitrator.draw(dispute_id, sender=worker)
    next_panel = set(keys_for_panel(system, accounts, system.arbitrator, dispute_id, 1, keys))
    service.follower.run_once()
    second = opened_case_files(service, tmp_path, desk_id, keys)
    assert next_panel <= set(second) and set(second) == set(panel) | next_panel
    assert set(published_case_files(system, chain, terms.digest(), agent)) == {a.lower() for a in second}
    assert service.desk.view(desk_id).status == DeskStatus.DISPUTED


def test_desk_keeps_its_state_in_postgresql(make_desk, fresh_postgres_url, system, desk_agent):
    service = make_desk(database_url=fresh_postgres_url)
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")
    service.desk.cancel(view.desk_id)
    follow(service, view.desk_id, "refunded")
    again = make_desk(database_url=fresh_postgres_url)  # a restarted desk reads the same rows
    assert again.desk.view(view.ticket_ref).status == DeskStatus.REFUNDED
    assert system.token.balanceOf(desk_agent.address) == 1_000 * USDC
