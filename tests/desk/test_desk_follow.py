"""Following jobs to their end: refunds of expired jobs, cancel, dispute on the customer's word,
helpdesk confirmations, callbacks, and a chain that goes away while the desk keeps its state."""

import hashlib
import hmac
import json
import threading

import pytest
from fastapi import FastAPI, Request
from sqlalchemy import select

from devtools.rpc_proxy import RpcProxy
from devtools.system import USDC
from escalation.desk.confirm import BadWebhook, verify_webhook
from escalation.desk.errors import NotAllowedNow
from escalation.desk.notices import SIGNATURE_HEADER
from escalation.desk.requests import DeskStatus
from escalation.desk.serving import ServerThread
from escalation.desk.tables import jobs
from protocol_core.eip712 import confirmation_message, recover
from protocol_core.terms import JobTerms
from runtime.errors import ChainUnavailable
from tests.desk.conftest import SECRET, follow, request


def terms_of(service, desk_id) -> JobTerms:
    with service.desk.engine.connect() as db:
        raw = db.execute(select(jobs.c.terms).where(jobs.c.desk_id == desk_id)).scalar_one()
    return JobTerms.model_validate_json(raw)


def test_expired_job_is_settled_and_refunded(make_desk, system, desk_agent, chain):
    service = make_desk()
    view = service.desk.escalate(request(accept_within_s=60))
    follow(service, view.desk_id, "open")
    assert service.desk.view(view.desk_id).status == DeskStatus.OPEN
    deadline = service.desk.view(view.desk_id).deadline
    assert deadline is not None
    # Past acceptBy on the chain's clock: snapshots may have left it behind the wall clock the
    # desk also reads, so move it to the deadline itself, not by a fixed step.
    chain.pending_timestamp = max(chain.pending_timestamp, deadline + 1)
    chain.mine()
    follow(service, view.desk_id, "refunded")  # settles, then sees the refund
    assert service.desk.view(view.desk_id).status == DeskStatus.REFUNDED
    assert system.token.balanceOf(desk_agent.address) == 1_000 * USDC


def test_cancel_an_open_job_and_refuse_to_cancel_twice(make_desk, system, desk_agent):
    service = make_desk()
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")
    service.desk.cancel(view.desk_id)
    follow(service, view.desk_id, "refunded")
    assert service.desk.view(view.desk_id).status == DeskStatus.REFUNDED
    assert system.token.balanceOf(desk_agent.address) == 1_000 * USDC
    with pytest.raises(NotAllowedNow, match="only an open job can be cancelled"):
        service.desk.cancel(view.desk_id)


def test_dispute_needs_a_verdict_to_dispute(make_desk):
    service = make_desk()
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")
    with pytest.raises(NotAllowedNow, match="is open: the agent disputes"):
        service.desk.dispute(view.desk_id, "the customer says nothing was refunded")


def test_helpdesk_confirmation_is_checked_and_signed_by_the_confirmer(
    make_desk, system, sealed_worker, chain
):
    worker, _ = sealed_worker
    service = make_desk()
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")
    body = json.dumps(
        {"ticket_ref": view.ticket_ref, "outcome": "resolved", "confirmed_at": 1_750_000_000}
    ).encode()
    with pytest.raises(BadWebhook, match="not signed with the shared secret"):
        verify_webhook("hook-secret", body, "00" * 32)
    event = verify_webhook("hook-secret", body, hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest())
    with pytest.raises(NotAllowedNow, match="is open: a confirmation is for an accepted job"):
        service.confirmations.confirm(event)
    system.escrow.acceptJob(terms_of(service, view.desk_id).as_abi(), sender=worker)
    service.follower.run_once()
    record = service.confirmations.confirm(event)
    signer = recover(
        confirmation_message(chain_id=chain.chain_id, escrow=str(system.escrow.address),
                             job_id=bytes.fromhex(view.job_id[2:]), ticket_ref=view.ticket_ref, outcome=1,
                             confirmed_at=1_750_000_000),
        bytes.fromhex(str(record["confirmation"])[2:]),
    )  # fmt: skip
    assert signer == terms_of(service, view.desk_id).confirmer
    assert service.desk.view(view.desk_id).confirmation == record


def test_callbacks_tell_the_agent_each_status_signed(make_desk):
    received: list[tuple[dict, bool]] = []
    arrived = threading.Event()
    app = FastAPI()

    @app.post("/hook")
    async def hook(req: Request) -> dict:
        body = await req.body()
        good = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest() == req.headers[SIGNATURE_HEADER]
        received.append((json.loads(body), good))
        arrived.set()
        return {}

    server = ServerThread(app).start()
    try:
        service = make_desk()
        view = service.desk.escalate(request(callback_url=f"{server.url}/hook"))
        follow(service, view.desk_id, "open")
        assert arrived.wait(10)
    finally:
        server.stop()
    assert [(r["desk_id"], r["status"], good) for r, good in received] == [(view.desk_id, "open", True)]


def test_chain_going_away_keeps_state_and_catches_up(make_desk, rpc_url, system, sealed_worker):
    worker, _ = sealed_worker
    proxy = RpcProxy(rpc_url, client_version="anvil/v1.7.1")
    with proxy:
        service = make_desk(url=proxy.url)
        view = service.desk.escalate(request())
        follow(service, view.desk_id, "open")
    # The RPC is gone: the desk refuses to act, keeps what it knows, and the job moves on without it.
    with pytest.raises(ChainUnavailable):
        service.follower.run_once()
    with pytest.raises(ChainUnavailable):
        service.desk.escalate(request())
    assert service.desk.view(view.desk_id).status == DeskStatus.OPEN
    system.escrow.acceptJob(terms_of(service, view.desk_id).as_abi(), sender=worker)
    back = make_desk()  # the same database, through an RPC that answers
    back.follower.run_once()
    assert back.desk.view(view.desk_id).status == DeskStatus.ACCEPTED
    assert len(back.desk.view(view.desk_id).seals) == 1
    assert len(back.desk.list()) == 1  # the refused escalation left nothing behind
