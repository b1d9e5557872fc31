"""The agent's desk end to end with real processes on anvil: the desk daemon, the team's content store,
three relayed oracle nodes and a worker using the SDK's worker half. Escalate -> the sealed context
fetched and opened by the worker -> the helpdesk's confirmation -> evidence to a node -> paid in one
submitAndAttest; the store and then the chain going away and coming back; a missed deadline refunded.
One set of processes serves the whole module; the clock jump of the refund comes last."""

import hashlib
import hmac
import json
import shutil
import threading
import time

import httpx
import pytest
from eth_account import Account
from fastapi import FastAPI, Request
from nacl.public import PrivateKey

from devtools.accounts import DEPLOYER, OPERATORS, write_keystores
from devtools.chain import Anvil, rpc_call, wait_for
from devtools.daemons import http_status
from devtools.desk import API_KEY, HELPDESK_SECRET, STORE_KEY, ContentStore, DeskDaemon
from devtools.protocol import Protocol
from devtools.relay import relayed_nodes, transactions_from
from devtools.system import USDC
from escalation.desk.errors import NotAllowedNow, NotYourJob
from escalation.desk.requests import DeskStatus
from escalation.desk.sdk import DeskClient, DeskUnavailable
from escalation.desk.serving import ServerThread
from escalation.desk.worker import DeskWorker
from protocol_core.content import ContentClient
from protocol_core.evidence import EvidenceBundle
from protocol_core.relayed import sign_registration
from protocol_core.sealing import WrongKey
from tests.desk.conftest import request

CALLBACK_SECRET = "flow-callback-secret"


class Callbacks:
    """The agent's callback endpoint: every notice the desk POSTs, with whether its HMAC checks."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, bool]] = []
        self.lock = threading.Lock()
        app = FastAPI()

        @app.post("/hook")
        async def hook(req: Request) -> dict:
            body = await req.body()
            good = hmac.new(CALLBACK_SECRET.encode(), body, hashlib.sha256).hexdigest()
            with self.lock:
                self.received.append((json.loads(body), good == req.headers.get("X-Desk-Signature")))
            return {}

        self.server = ServerThread(app).start()
        self.url = f"{self.server.url}/hook"

    def statuses(self, desk_id: str) -> list[str]:
        with self.lock:
            assert all(good for _, good in self.received), self.received
            return [notice["status"] for notice, _ in self.received if notice["desk_id"] == desk_id]


@pytest.fixture(scope="module")
def flow(tmp_path_factory, deployed_state):
    folder = tmp_path_factory.mktemp("deskflow")
    shutil.copy(deployed_state.state, folder / "anvil-state.json")
    shutil.copy(deployed_state.deployments, folder / "deployments.json")
    anvil = Anvil(folder)
    anvil.start()
    protocol = Protocol.connect(anvil.url, deployed_state.addresses, folder / "evidence")
    agent = Account.create()
    deployer = protocol.account(DEPLOYER)
    protocol.w3.eth.send_transaction({"from": deployer, "to": agent.address, "value": 10**20})
    protocol.send("TestUSDC", "mint", agent.address, 1_000 * USDC, sender=DEPLOYER)
    callbacks = Callbacks()  # binds its port first: the daemons' ports are picked free before they bind
    store = ContentStore(folder).start(wait=None)
    desk = DeskDaemon(
        folder, anvil.url, folder / "deployments.json", bytes(agent.key), content_url=store.url,
        content_api_key=STORE_KEY, callback_secret=CALLBACK_SECRET,
    ).start(wait=None)  # fmt: skip
    nodes = relayed_nodes(folder, anvil.url, folder / "deployments.json", write_keystores(folder / "ape"),
                          takeover_delay=1.5, fallback_delay=20, allow_private_hosts=True)  # fmt: skip
    for node in nodes:
        node.start(wait=None)
    try:
        store.wait_ready(path="/healthz")
        desk.wait_ready()
        for node in nodes:
            node.wait_ready()
        yield protocol, anvil, store, desk, nodes, agent, callbacks
    finally:
        callbacks.server.stop()
        for daemon in (desk, store, *nodes):
            daemon.kill()
        anvil.kill()


def _worker(protocol: Protocol, desk: DeskDaemon, register: bool = True) -> tuple[DeskWorker, PrivateKey]:
    """A worker with an empty wallet and a real X25519 key, registered by its signature (sent by the
    deployer as onboarder), using the SDK's worker half against the desk."""
    account, key = Account.create(), PrivateKey.generate()
    registry = protocol.contracts["WorkerRegistry"]
    if register:
        signed = sign_registration(
            account.key, chain_id=protocol.w3.eth.chain_id, registry=registry.address, worker=account.address,
            languages=0b1, expertise=0b1, max_concurrent=5, encryption_key=bytes(key.public_key),
            profile_uri="ipfs://w", nonce=registry.functions.nonces(account.address).call(),
            deadline=protocol.w3.eth.get_block("latest")["timestamp"] + 600,
        )  # fmt: skip
        protocol.send("WorkerRegistry", "registerFor", *signed.as_abi(), sender=DEPLOYER)
    chain_id, escrow = protocol.w3.eth.chain_id, protocol.addresses.escrow
    return DeskWorker(desk.url, account, key, chain_id=chain_id, escrow=escrow), key


def _confirm(desk: DeskDaemon, ticket_ref: str) -> None:
    """The helpdesk reports that the customer confirmed the resolution (HMAC-signed webhook)."""
    body = json.dumps({"ticket_ref": ticket_ref, "outcome": "resolved", "confirmed_at": int(time.time())})
    signature = hmac.new(HELPDESK_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    answer = httpx.post(f"{desk.url}/v1/helpdesk/confirm", content=body,
                        headers={"X-Helpdesk-Signature": signature})  # fmt: skip
    assert answer.status_code == 200, answer.text


def _open_job(desk: DeskDaemon, callbacks: Callbacks, **over) -> tuple[DeskClient, str, str]:
    client = DeskClient(desk.url, API_KEY)
    view = client.escalate(request(callback_url=callbacks.url, **over))
    job = client.wait(view.desk_id, until={DeskStatus.OPEN}, timeout=30, poll=0.05)
    assert job.job_id is not None
    return client, view.desk_id, job.job_id


def test_escalation_is_sealed_to_the_worker_evidenced_and_paid(flow):
    protocol, _, store, desk, nodes, _, callbacks = flow
    client, desk_id, job_id = _open_job(desk, callbacks)
    worker, _ = _worker(protocol, desk)
    with pytest.raises(NotYourJob, match="nobody has accepted it yet"):
        worker.handoff(job_id)

    assert worker.accept(job_id).job_id == job_id  # relayed: the worker sends nothing
    assert client.wait(desk_id, until={DeskStatus.ACCEPTED}, timeout=30, poll=0.05).worker == worker.address
    wait_for(lambda: worker.handoff(job_id).context, timeout=30, what="the context sealed to the worker")
    context = worker.context(job_id)  # fetched from the store with a read proof, checked, opened
    assert "[EMAIL]" in context.conversation[0].text
    assert "jane@example.com" not in context.canonical().decode()
    assert context.acceptance_criteria == ("The duplicate charge is refunded",)
    stranger, _ = _worker(protocol, desk, register=False)
    with pytest.raises(NotYourJob, match=f"its worker is {worker.address}"):
        stranger.handoff(job_id)
    wrong_key = DeskWorker(desk.url, worker.account, PrivateKey.generate(), chain_id=worker.chain_id,
                           escrow=worker.escrow)  # fmt: skip
    with pytest.raises(WrongKey, match="not to yours"):
        wrong_key.context(job_id)
    with pytest.raises(NotAllowedNow, match="has not confirmed"):
        worker.evidence(job_id, "Refunded")

    _confirm(desk, client.status(desk_id).ticket_ref)
    first_block = protocol.w3.eth.block_number + 1
    evidence = worker.evidence(job_id, "Refunded the duplicate charge; the customer confirmed.")
    assert worker.hand_in(nodes[1].intake_url, evidence)["status"] == "accepted"

    paid = client.wait(desk_id, until={DeskStatus.PAID}, timeout=60, poll=0.05)
    assert paid.status == DeskStatus.PAID
    usdc = protocol.contracts["TestUSDC"].functions
    assert usdc.balanceOf(worker.address).call() == 20 * USDC
    assert protocol.w3.eth.get_balance(worker.address) == 0  # never held POL
    operators = {protocol.account(index) for index in OPERATORS}
    sent = [tx.function for tx in transactions_from(protocol.w3, operators, first_block)]
    assert sent == ["submitAndAttest"]
    (submitted,) = protocol.contracts["JobEscrow"].events.EvidenceSubmitted.get_logs(from_block=first_block)
    assert submitted["args"]["uri"] == evidence.uri and evidence.uri.startswith(store.url)
    stored = ContentClient().get(evidence.uri, evidence.evidence_hash)  # public: anyone can check it
    assert EvidenceBundle.parse(stored).summary.startswith("Refunded the duplicate charge")
    wait_for(lambda: "paid" in callbacks.statuses(desk_id), timeout=30, what="the paid notice")
    statuses = callbacks.statuses(desk_id)
    assert statuses[0] == "open" and "accepted" in statuses and statuses[-1] == "paid", statuses


def test_store_going_away_delays_the_handoff_and_loses_nothing(flow):
    protocol, _, store, desk, _, _, callbacks = flow
    client, desk_id, job_id = _open_job(desk, callbacks)
    worker, _ = _worker(protocol, desk)
    store.stop()
    try:
        worker.accept(job_id)
        client.wait(desk_id, until={DeskStatus.ACCEPTED}, timeout=30, poll=0.05)
        wait_for(lambda: "handoff not done" in desk.log() and "cannot store the sealed context" in desk.log(),
                 timeout=30, what="the desk to notice the store is down")  # fmt: skip
        assert worker.handoff(job_id).context is None
        with pytest.raises(NotAllowedNow, match="has not sealed the context"):
            worker.context(job_id)
        _confirm(desk, client.status(desk_id).ticket_ref)
        with pytest.raises(DeskUnavailable, match="cannot store the evidence: cannot reach"):
            worker.evidence(job_id, "Refunded")
    finally:
        store.start()
    wait_for(lambda: worker.handoff(job_id).context, timeout=30, what="the sealed context, store back")
    assert worker.context(job_id).ticket_ref == client.status(desk_id).ticket_ref


def test_chain_going_away_keeps_the_desks_state_and_it_catches_up(flow):
    protocol, anvil, _, desk, _, _, callbacks = flow
    client, desk_id, job_id = _open_job(desk, callbacks)
    worker, _ = _worker(protocol, desk)
    anvil.stop()  # saves its state; the same port comes back below
    try:
        wait_for(lambda: http_status(desk.port, "/readyz") == 503, timeout=30, what="the desk not ready")
        assert client.status(desk_id).status == DeskStatus.OPEN  # what it knows still answers
        with pytest.raises(DeskUnavailable, match=r"RPC (unreachable|does not answer)"):
            client.escalate(request())
        with pytest.raises(DeskUnavailable, match=r"RPC (unreachable|does not answer)"):
            worker.accept(job_id)
        assert len(client.jobs()) == len({v.desk_id for v in client.jobs()})  # nothing half-made
    finally:
        anvil.start()
    desk.wait_ready()
    worker.accept(job_id)
    client.wait(desk_id, until={DeskStatus.ACCEPTED}, timeout=30, poll=0.05)
    wait_for(lambda: worker.handoff(job_id).context, timeout=30, what="the context after the chain came back")


def test_missed_deadline_is_refunded_and_reported(flow):
    protocol, anvil, _, desk, _, agent, callbacks = flow
    usdc = protocol.contracts["TestUSDC"].functions
    before = usdc.balanceOf(agent.address).call()
    client, desk_id, _ = _open_job(desk, callbacks, accept_within_s=60)
    assert usdc.balanceOf(agent.address).call() == before - client.status(desk_id).total
    rpc_call(anvil.url, "evm_increaseTime", 120)  # nobody accepted within the minute
    rpc_call(anvil.url, "evm_mine")

    refunded = client.wait(desk_id, until={DeskStatus.REFUNDED}, timeout=30, poll=0.05)
    assert refunded.status == DeskStatus.REFUNDED
    assert usdc.balanceOf(agent.address).call() == before  # reward and fees back
    wait_for(lambda: "refunded" in callbacks.statuses(desk_id), timeout=30, what="the refund notice")
    assert callbacks.statuses(desk_id) == ["open", "refunded"]
