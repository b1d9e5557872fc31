"""The desk's HTTP API and the SDK over it, on a real server on 127.0.0.1: the API key, OpenAPI,
escalate/status/cancel/dispute, policy and unknown-job errors, the helpdesk webhook's HMAC."""

import hashlib
import hmac
import json

import httpx
import pytest

from devtools.chain import free_port
from devtools.system import USDC
from escalation.desk.api import desk_app
from escalation.desk.errors import DeskError, NotAllowedNow, PolicyRefusal, UnknownJob
from escalation.desk.requests import DeskStatus
from escalation.desk.sdk import DeskClient, DeskUnavailable
from escalation.desk.serving import ServerThread
from tests.desk.conftest import follow, request

API_KEY, HOOK_SECRET = "desk-key", "hook-secret"


@pytest.fixture
def api(make_desk):
    service = make_desk()
    server = ServerThread(desk_app(service, API_KEY, HOOK_SECRET)).start()
    yield service, server
    server.stop()


def test_sdk_escalates_and_follows_over_http(api):
    service, server = api
    client = DeskClient(server.url, API_KEY)
    view = client.escalate(request())
    assert view.status == DeskStatus.POSTING
    follow(service, view.desk_id, "open")
    assert client.wait(view.desk_id, until={DeskStatus.OPEN}, timeout=10).status == DeskStatus.OPEN
    assert client.cancel(view.desk_id).desk_id == view.desk_id
    with pytest.raises(NotAllowedNow, match="the agent disputes"):
        client.dispute(view.desk_id, "not resolved")


def test_errors_keep_their_meaning_over_http(api):
    _, server = api
    client = DeskClient(server.url, API_KEY)
    with pytest.raises(UnknownJob, match="no escalation 'esc-0'"):
        client.status("esc-0")
    with pytest.raises(PolicyRefusal, match="maximum of 100 USDC"):
        client.escalate(request(reward=150 * USDC))
    with pytest.raises(DeskError, match="refused the API key"):
        DeskClient(server.url, "wrong").status("esc-0")
    with pytest.raises(DeskUnavailable, match="cannot reach the desk"):
        DeskClient(f"http://127.0.0.1:{free_port()}", API_KEY).status("esc-0")
    assert httpx.get(f"{server.url}/v1/jobs").status_code == 401
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/v1/escalations", "/v1/jobs/{ref}", "/v1/helpdesk/confirm", "/v1/budget"} <= set(spec["paths"])
    budget = httpx.get(f"{server.url}/v1/budget", headers={"X-Api-Key": API_KEY}).json()
    assert budget["daily_budget"] == 500 * USDC and budget["committed"] == 0


def test_helpdesk_webhook_needs_its_hmac(api):
    _, server = api
    body = json.dumps({"ticket_ref": "T-unknown", "outcome": "resolved", "confirmed_at": 1}).encode()
    url = f"{server.url}/v1/helpdesk/confirm"
    assert httpx.post(url, content=body, headers={"X-Helpdesk-Signature": "00"}).status_code == 401
    good = hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = httpx.post(url, content=body, headers={"X-Helpdesk-Signature": good})
    assert answer.status_code == 404 and "no posted job for ticket 'T-unknown'" in answer.json()["detail"]
