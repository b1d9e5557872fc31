"""Disputes the desk brings after a verdict, on the session chain with its oracle operators attesting:
each drawn arbitrator opens the case file re-sealed to its own key (and nobody else's key opens it), with
the worker's evidence bundle from the desk's store and the statements the parties posted to the desk
(a later statement seals the case files again; the chain names it without its words); the desk
appeals a ruling it lost and the next panel gets its case files, and settles the job once the last
ruling is executed; and the desk on PostgreSQL."""

import json

import httpx
import pytest
from eth_account import Account
from nacl.public import PrivateKey
from sqlalchemy import update

from devtools.system import USDC
from escalation.desk.api import desk_app
from escalation.desk.errors import DeskError, InvalidRequest, NotYourJob
from escalation.desk.requests import DeskStatus
from escalation.desk.serving import ServerThread
from escalation.desk.tables import jobs
from escalation.desk.worker import DeskWorker
from protocol_core.case_index import case_files_in
from protocol_core.content import ContentClient, FolderStore, content_hash
from protocol_core.context import canonical_json
from protocol_core.enums import RulingOption
from protocol_core.sealing import SealedEnvelope, WrongKey, open_sealed
from protocol_core.terms import JobTerms
from runtime.db import transaction
from tests.contracts.arbitration_helpers import everyone, rule, vote_round
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


def approved_job(service, system, worker, operators, blobs) -> tuple[str, JobTerms, dict]:
    """A job the desk posted, the worker accepted and submitted (its evidence bundle in the desk's store,
    at `blobs`), and two operators approved; returns the bundle too."""
    view = service.desk.escalate(request(challenge_window_s=3_600))
    follow(service, view.desk_id, "open")
    terms = terms_of(service, view.desk_id)
    system.escrow.acceptJob(terms.as_abi(), sender=worker)
    job_id = terms.digest()
    bundle = {"job_id": "0x" + job_id.hex(), "summary": "Refunded the duplicate charge on day one."}
    raw = canonical_json(bundle)
    evidence = bytes.fromhex(content_hash(raw)[2:])
    system.escrow.submitEvidence(job_id, evidence, FolderStore(blobs).put(raw), sender=worker)
    for operator in operators[:2]:
        system.oracle.attest(job_id, evidence, True, 0, terms.as_abi(), sender=operator)
    follow(service, view.desk_id, "approved")
    return view.desk_id, terms, bundle


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
    """Each arbitrator's latest sealed case file, fetched from the store and opened with its own key."""
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
    desk_id, terms, bundle = approved_job(service, system, worker, operators, tmp_path / "blobs")
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
        assert case["evidence"]["bundle"] == bundle and "error" not in case["evidence"]
        assert case["evidence"]["hash"] == content_hash(canonical_json(bundle))
        assert case["statements"] == []
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
    # The second panel refunds the agent; once the ruling is executed the desk settles the job itself.
    signers = {**signers, **{address: accounts[address] for address in next_panel}}
    rule(system.arbitrator, chain, dispute_id, signers, everyone(RulingOption.REFUND_AGENT))
    credit, balance = system.escrow.creditOf(agent), system.token.balanceOf(agent)
    follow(service, desk_id, "refunded")
    refunded = system.token.balanceOf(agent) + system.escrow.creditOf(agent) - balance - credit
    assert refunded >= terms.reward  # the reward back, and the dispute's bond


def test_statements_reach_the_panel_through_the_desk_and_the_chain_names_them_only(
    make_desk, system, chain, accounts, sealed_worker, operators, panel_keys, tmp_path
):
    worker, _ = sealed_worker
    _, keys = panel_keys
    service = make_desk()
    desk_id, terms, _ = approved_job(service, system, worker, operators, tmp_path / "blobs")
    job_id = "0x" + terms.digest().hex()
    server = ServerThread(desk_app(service, "door-key", "hook")).start()
    worker_key = Account.from_key(worker.private_key)
    as_worker = DeskWorker(server.url, worker_key, PrivateKey.generate(), chain_id=chain.chain_id,
                           escrow=str(system.escrow.address))  # fmt: skip
    try:
        with pytest.raises(DeskError, match="approved, not disputed"):
            as_worker.statement(job_id, "too early")
        service.desk.dispute(desk_id, "the customer says the charge was never refunded")
        follow(service, desk_id, "disputed")
        dispute_id = service.desk.view(desk_id).dispute_id
        chain.mine(2)
        system.arbitrator.draw(dispute_id, sender=worker)
        panel = keys_for_panel(system, accounts, system.arbitrator, dispute_id, 0, keys)
        service.follower.run_once()
        before = opened_case_files(service, tmp_path, desk_id, keys)
        assert set(before) == set(panel) and all(case["statements"] == [] for case in before.values())

        words = "The customer confirmed by phone; the refund went out on day one."
        stored = as_worker.statement(job_id, words)
        system.escrow.submitDisputeEvidence(terms.digest(), stored.uri, sender=worker)  # the worker's own tx
        service.follower.run_once()  # the statement re-seals every case file

        cases = opened_case_files(service, tmp_path, desk_id, keys)
        assert set(cases) == set(panel)
        for case in cases.values():
            (said,) = case["statements"]
            assert (said["author"], said["text"], said["uri"]) == (worker.address.lower(), words, stored.uri)
        named = published_case_files(system, chain, terms.digest(), service.desk.agent.address)
        assert named == {a.lower(): s.uri for s in service.desk.view(desk_id).seals for a in [s.reader]
                         if s.role == "arbitrator"}  # fmt: skip
        # On chain: the URI, which ends in the hash of a blob sealed to the desk; never the words.
        logged = [e.evidence for e in system.escrow.Evidence.range(0, chain.blocks.height + 1)
                  if e.party == worker.address and e.evidenceGroupId == int(job_id, 16)]  # fmt: skip
        assert logged == [stored.uri] and stored.uri.endswith(stored.statement_hash)
        blob = FolderStore(tmp_path / "blobs").get(stored.statement_hash)
        assert SealedEnvelope.parse(blob).recipient == service.desk.agent.address
        assert words.encode() not in blob

        stranger = DeskWorker(server.url, Account.create(), PrivateKey.generate(), chain_id=chain.chain_id,
                              escrow=str(system.escrow.address))  # fmt: skip
        with pytest.raises(NotYourJob, match="neither the worker nor the agent"):
            stranger.statement(job_id, "I was there too")
        stranger.close()
        with pytest.raises(InvalidRequest, match="1 to 4,000 characters"):
            as_worker.statement(job_id, "x" * 4_001)
        oversize = httpx.post(f"{server.url}/v1/jobs/{job_id}/statements", content=b"x" * 40_000)
        assert oversize.status_code == 413 and "over the limit" in oversize.json()["detail"]
        assert service.follower.handoff.statements.count(desk_id) == 1  # nothing refused was kept
    finally:
        as_worker.close()
        server.stop()


def test_a_case_file_says_when_the_evidence_cannot_be_fetched_or_does_not_match(make_desk, tmp_path):
    service = make_desk()
    desk_id = service.desk.escalate(request()).desk_id
    stored = FolderStore(tmp_path / "blobs").put(b'{"summary": "refunded"}')
    for uri, evidence_hash, error in (
        (stored, "0x" + "22" * 32, "the bytes hash to"),  # the store has other bytes at the URI
        (stored.replace(stored[-64:], "33" * 32), "0x" + "33" * 32, "no blob"),  # the store lost it
        ("ipfs://bafy-elsewhere", "0x" + "44" * 32, "not in the desk's content store"),
    ):
        with transaction(service.desk.engine) as db:
            db.execute(update(jobs).where(jobs.c.desk_id == desk_id)
                       .values(evidence_hash=evidence_hash, evidence_uri=uri))  # fmt: skip
        case = json.loads(service.follower.handoff.case_file(desk_id))
        assert case["evidence"]["hash"] == evidence_hash and case["evidence"]["uri"] == uri
        assert "bundle" not in case["evidence"] and error in case["evidence"]["error"]
        assert case["context"]["ticket_ref"]  # the rest of the case file is still there


def test_desk_keeps_its_state_in_postgresql(make_desk, fresh_postgres_url, system, desk_agent):
    service = make_desk(database_url=fresh_postgres_url)
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")
    service.desk.cancel(view.desk_id)
    follow(service, view.desk_id, "refunded")
    again = make_desk(database_url=fresh_postgres_url)  # a restarted desk reads the same rows
    assert again.desk.view(view.ticket_ref).status == DeskStatus.REFUNDED
    assert system.token.balanceOf(desk_agent.address) == 1_000 * USDC
