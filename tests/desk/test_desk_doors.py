"""The SDK's two doors (over HTTP and in process) and the decision door: approve through the HTTP API,
"should I escalate this?" with its reasons, withdraw, and bad requests refused with what to fix."""

import pytest

from devtools.chain import wait_for
from devtools.system import USDC
from escalation.desk.api import desk_app
from escalation.desk.errors import NotAllowedNow
from escalation.desk.inprocess import InProcessDesk
from escalation.desk.requests import DeskStatus
from escalation.desk.sdk import DeskClient, InvalidRequest
from escalation.desk.serving import ServerThread
from escalation.models import Ticket
from protocol_core.enums import JobStatus
from tests.desk.conftest import GDPR, ROUTINE, follow, request

API_KEY = "doors-key"


@pytest.fixture
def doors(make_desk):
    service = make_desk()
    server = ServerThread(desk_app(service, API_KEY, "hook")).start()
    yield service, DeskClient(server.url, API_KEY), InProcessDesk(service)
    server.stop()


def test_approve_through_the_http_api_posts_the_waiting_escalation(doors, system, desk_agent):
    service, client, _ = doors
    view = client.escalate(request(reward=60 * USDC))
    assert view.status == DeskStatus.AWAITING_APPROVAL and view.job_id is None
    assert system.token.balanceOf(desk_agent.address) == 1_000 * USDC  # nothing posted yet
    approved = client.approve(view.desk_id)
    assert approved.status == DeskStatus.POSTING and approved.job_id is not None
    follow(service, view.desk_id, "open")
    assert system.escrow.jobState(approved.job_id)[0] == JobStatus.OPEN
    with pytest.raises(NotAllowedNow, match="is open, not awaiting approval"):
        client.approve(view.desk_id)


def test_decision_door_answers_with_reasons_over_http_and_in_process(doors):
    _, client, local = doors
    for door in (client, local):
        gdpr = door.decide(Ticket.model_validate(GDPR))
        assert gdpr.should_escalate and "compliance_legal" in gdpr.triggers
        assert any(reason.code.startswith("compliance") for reason in gdpr.reasons)
        assert gdpr.requirements is not None and gdpr.requirements.certification_names
        assert not door.decide(Ticket.model_validate(ROUTINE)).should_escalate
    with pytest.raises(InvalidRequest, match="agent_confidence"):
        client._call("POST", "/v1/decide", json={**GDPR, "agent_confidence": 3})


def test_in_process_door_escalates_follows_budgets_and_cancels(doors, system, desk_agent):
    service, client, local = doors
    view = local.escalate(request())
    follow(service, view.desk_id, "open")
    assert client.status(view.ticket_ref).desk_id == view.desk_id  # the same desk behind both doors
    assert [v.desk_id for v in local.jobs()] == [view.desk_id]
    assert local.budget().committed == view.total == client.budget().committed
    local.cancel(view.desk_id)
    follow(service, view.desk_id, "refunded")
    assert system.token.balanceOf(desk_agent.address) == 1_000 * USDC
    assert local.withdraw().amount == 0 and client.withdraw().amount == 0  # nothing credited: nothing sent


def test_withdraw_collects_a_refund_the_token_refused_to_push(doors, system, desk_agent, deployer):
    service, client, _ = doors
    view = client.escalate(request())
    follow(service, view.desk_id, "open")
    system.token.setBlacklisted(desk_agent.address, True, sender=deployer)  # the refund cannot be pushed
    client.cancel(view.desk_id)
    follow(service, view.desk_id, "refunded")
    credited = system.escrow.creditOf(desk_agent.address)
    assert credited == view.total
    assert system.token.balanceOf(desk_agent.address) == 1_000 * USDC - view.total
    system.token.setBlacklisted(desk_agent.address, False, sender=deployer)
    assert client.withdraw().amount == credited
    wait_for(lambda: system.escrow.creditOf(desk_agent.address) == 0, timeout=20, what="the withdrawal")
    assert system.token.balanceOf(desk_agent.address) == 1_000 * USDC
