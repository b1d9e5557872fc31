"""The desk relays a worker's signed acceptance and pays its gas: a worker with an empty wallet,
registered by a relayed signature, takes a job through the desk's API without sending anything."""

import httpx
import pytest
from eth_account import Account
from nacl.public import PrivateKey

from escalation.desk.api import desk_app
from escalation.desk.requests import DeskStatus
from escalation.desk.serving import ServerThread
from protocol_core.relayed import sign_acceptance, sign_registration
from tests.desk.conftest import follow, request

API_KEY = "desk-key"


@pytest.fixture
def api(make_desk):
    service = make_desk()
    server = ServerThread(desk_app(service, API_KEY, "hook-secret")).start()
    yield service, server
    server.stop()


@pytest.fixture
def empty_worker(chain, system, deployer):
    """A worker who never held POL: its registration is signed by it and sent by the deployer."""
    worker, key = Account.create(), PrivateKey.generate()
    registry = system.registry
    signed = sign_registration(
        worker.key, chain_id=chain.chain_id, registry=str(registry.address), worker=worker.address,
        languages=0b1, expertise=0b1, max_concurrent=3, encryption_key=bytes(key.public_key),
        profile_uri="ipfs://w", nonce=registry.nonces(worker.address), deadline=chain.pending_timestamp + 600,
    )  # fmt: skip
    registry.registerFor(*signed.as_abi(), sender=deployer)
    assert chain.provider.get_balance(worker.address) == 0
    return worker


def _signed(worker, service, job_id: str, deadline: int, signer=None) -> dict:
    acceptance = sign_acceptance(
        (signer or worker).key, chain_id=service.desk.chain_id, escrow=service.desk.contracts.escrow.address,
        job_id=bytes.fromhex(job_id[2:]), worker=worker.address, deadline=deadline,
    )  # fmt: skip
    r, vs = acceptance.signature
    return {"worker": worker.address, "deadline": deadline, "signature": "0x" + (r + vs).hex()}


def test_a_worker_with_an_empty_wallet_accepts_through_the_desk(api, empty_worker, chain, system):
    service, server = api
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")
    job_id = service.desk.view(view.desk_id).job_id
    body = _signed(empty_worker, service, job_id, chain.pending_timestamp + 600)

    answer = httpx.post(f"{server.url}/v1/jobs/{job_id}/accept", json=body)  # no API key needed

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"job_id": job_id, "status": "open"}  # sent; accepted once mined
    follow(service, view.desk_id, "accepted")
    assert system.escrow.jobState(job_id)[1] == empty_worker.address
    assert chain.provider.get_balance(empty_worker.address) == 0
    again = httpx.post(f"{server.url}/v1/jobs/{job_id}/accept", json=body)
    assert again.status_code == 409 and "only an open job can be accepted" in again.json()["detail"]


def test_refusals_send_nothing(api, empty_worker, chain):
    service, server = api
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")
    job_id = service.desk.view(view.desk_id).job_id
    url = f"{server.url}/v1/jobs/{job_id}/accept"
    sent_before = chain.provider.web3.eth.get_transaction_count(service.desk.agent.address)

    forged = _signed(empty_worker, service, job_id, chain.pending_timestamp + 600, signer=Account.create())
    answer = httpx.post(url, json=forged)
    assert answer.status_code == 400 and f"not {empty_worker.address}'s" in answer.json()["detail"]

    expired = _signed(empty_worker, service, job_id, chain.pending_timestamp - 10)
    answer = httpx.post(url, json=expired)
    assert answer.status_code == 409 and "SignatureExpired" in answer.json()["detail"]

    answer = httpx.post(f"{server.url}/v1/jobs/{view.desk_id}/accept", json=expired)
    assert answer.status_code == 400 and "job id" in answer.json()["detail"]
    answer = httpx.post(f"{server.url}/v1/jobs/0x{'00' * 32}/accept", json=expired)
    assert answer.status_code == 404
    answer = httpx.post(url, json={**expired, "signature": "0x1234"})
    assert answer.status_code == 422

    assert chain.provider.web3.eth.get_transaction_count(service.desk.agent.address) == sent_before
    assert service.desk.view(view.desk_id).status == DeskStatus.OPEN
