"""The desk's worker door and the SDK's worker half on a real server on 127.0.0.1: only the job's worker
is answered, by a fresh request signed with its key; a tampered envelope and a wrong X25519 key are
refused before anything is shown; evidence the desk stores must be this job's canonical bundle."""

import base64
import time

import httpx
import pytest
from eth_account import Account
from nacl.public import PrivateKey
from sqlalchemy import update

from escalation.desk.api import desk_app
from escalation.desk.confirm import HelpdeskConfirmation
from escalation.desk.errors import BadProof, InvalidRequest, NotYourJob, UnknownJob
from escalation.desk.serving import ServerThread
from escalation.desk.tables import seals
from escalation.desk.worker import DeskWorker
from escalation.desk.worker_door import worker_proof_message
from protocol_core.content import ContentClient, FolderStore
from protocol_core.evidence import EvidenceBundle
from protocol_core.relayed import sign_registration
from protocol_core.sealing import SealedEnvelope, TamperedSeal, WrongKey
from runtime.db import transaction
from tests.desk.conftest import follow, request


@pytest.fixture
def door(make_desk, tmp_path, chain, system, deployer):
    """A desk with an accepted job: (service, server url, the job's id, its worker's client)."""
    service = make_desk()
    server = ServerThread(desk_app(service, "door-key", "hook")).start()
    account, key = Account.create(), PrivateKey.generate()
    registry = system.registry
    signed = sign_registration(
        account.key, chain_id=chain.chain_id, registry=str(registry.address), worker=account.address,
        languages=0b1, expertise=0b1, max_concurrent=3, encryption_key=bytes(key.public_key),
        profile_uri="ipfs://w", nonce=registry.nonces(account.address),
        deadline=chain.pending_timestamp + 600,
    )  # fmt: skip
    registry.registerFor(*signed.as_abi(), sender=deployer)
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")
    job_id = service.desk.view(view.desk_id).job_id
    store = ContentClient(folder=FolderStore(tmp_path / "blobs"), reader=account)  # the desk's folder
    worker = DeskWorker(server.url, account, key, chain_id=chain.chain_id,
                        escrow=str(system.escrow.address), store=store)  # fmt: skip
    with pytest.raises(NotYourJob, match="nobody has accepted it yet"):
        worker.handoff(job_id)
    worker.accept(job_id, deadline=chain.pending_timestamp + 600)
    follow(service, view.desk_id, "accepted")
    yield service, server.url, job_id, worker
    server.stop()


def test_only_a_fresh_request_signed_by_the_jobs_worker_is_answered(door):
    service, url, job_id, worker = door
    assert worker.handoff(job_id).context is not None
    assert worker.context(job_id).acceptance_criteria == ("The duplicate charge is refunded",)

    def proof(signer, reader: str, expires: int) -> dict:
        signature = signer.sign_message(worker_proof_message(job_id, expires)).signature
        return {
            "X-Reader": reader,
            "X-Read-Expires": str(expires),
            "X-Read-Signature": "0x" + bytes(signature).hex(),
        }

    def refused(headers: dict, status: int) -> str:
        answer = httpx.get(f"{url}/v1/jobs/{job_id}/handoff", headers=headers)
        assert answer.status_code == status, answer.text
        return str(answer.json()["detail"])

    now, other = int(time.time()), Account.create()
    assert "send X-Reader, X-Read-Expires and X-Read-Signature" in refused({}, 401)
    assert "sign a fresh one" in refused(proof(worker.account, worker.address, now - 1), 401)
    assert "sign a fresh one" in refused(proof(worker.account, worker.address, now + 3_600), 401)
    assert f"signed by {other.address}, not by {worker.address}" in refused(
        proof(other, worker.address, now + 60), 401
    )
    assert f"its worker is {worker.address}" in refused(proof(other, other.address, now + 60), 403)
    with pytest.raises(UnknownJob, match="no escalation"):
        worker.handoff("0x" + "11" * 32)
    with pytest.raises(InvalidRequest, match=r"by its job id \(0x \+ 64 hex\)"):
        worker.handoff(service.desk.view(job_id).desk_id)
    stranger = DeskWorker(url, other, PrivateKey.generate(), chain_id=worker.chain_id, escrow=worker.escrow)
    with pytest.raises(NotYourJob, match="only its worker may ask"):
        stranger.context(job_id)
    with pytest.raises(BadProof, match="sign the request"):
        stranger._desk._call("GET", f"/v1/jobs/{job_id}/handoff")


def test_a_tampered_envelope_and_a_wrong_key_are_refused(door, tmp_path):
    service, url, job_id, worker = door
    handoff = worker.handoff(job_id)
    envelope = SealedEnvelope.parse(FolderStore(tmp_path / "blobs").get(handoff.context.blob))
    ciphertext = bytearray(base64.b64decode(envelope.ciphertext))
    ciphertext[-1] ^= 1  # one flipped bit, stored under its own (correct) hash: the store cannot tell
    tampered = envelope.model_copy(update={"ciphertext": base64.b64encode(bytes(ciphertext)).decode()})
    uri = FolderStore(tmp_path / "blobs").put(tampered.canonical())
    with transaction(service.desk.engine) as db:
        db.execute(update(seals).values(uri=uri, blob="0x" + tampered.digest().hex()))
    with pytest.raises(TamperedSeal, match="altered after sealing or forged; do not use it"):
        worker.context(job_id)
    wrong = DeskWorker(url, worker.account, PrivateKey.generate(), chain_id=worker.chain_id,
                       escrow=worker.escrow, store=worker._store)  # fmt: skip
    with pytest.raises(WrongKey, match="only that key can open it"):
        wrong.context(job_id)


def test_evidence_is_stored_only_as_this_jobs_canonical_bundle(door, chain, tmp_path):
    service, url, job_id, worker = door
    view = service.desk.view(job_id)
    service.confirmations.confirm(
        HelpdeskConfirmation(ticket_ref=view.ticket_ref, outcome="resolved", confirmed_at=int(time.time()))
    )
    intake = worker.evidence(job_id, "Refunded", deadline=chain.pending_timestamp + 600)
    stored = FolderStore(tmp_path / "blobs").get(intake.evidence_hash)  # the desk's store
    bundle = EvidenceBundle.parse(stored)
    assert (bundle.job_id, bundle.summary) == (job_id, "Refunded") and intake.bundle == stored.decode()

    def refused(body: bytes, status: int) -> str:
        answer = worker._desk._http.post(f"{url}/v1/jobs/{job_id}/evidence", content=body,
                                         headers=worker._proof(job_id))  # fmt: skip
        assert answer.status_code == status, answer.text
        return str(answer.json()["detail"])

    assert "send the bundle's canonical bytes" in refused(b"not json", 400)
    assert "send bundle.canonical()" in refused(stored.replace(b",", b", ", 1), 400)
    other = bundle.model_copy(update={"job_id": "0x" + "22" * 32}).canonical()
    assert f"not for {job_id}" in refused(other, 400)
    assert "over the limit" in refused(b"x" * (65 * 1024), 413)
