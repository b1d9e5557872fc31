"""The desk as a real `escalation-desk run` process on the session's chain, and its CLI as a subprocess
against it: health, readiness and metrics, posting by hand, listing with money, approve, cancel,
budget, withdraw, one-line errors, and a kill -9 after which the desk catches up from its database."""

import json

import httpx
import pytest
from sqlalchemy import create_engine, select

from devtools.chain import free_port, wait_for
from devtools.daemons import http_status
from devtools.desk import API_KEY, DeskDaemon
from devtools.system import USDC
from escalation.desk.policy import usdc
from escalation.desk.requests import DeskStatus
from escalation.desk.sdk import DeskClient
from escalation.desk.tables import jobs
from protocol_core.deployment import save_deployment
from protocol_core.terms import JobTerms
from tests.desk.conftest import request


@pytest.fixture
def desk(tmp_path, rpc_url, addresses, desk_agent):
    deployments = tmp_path / "deployments.json"
    save_deployment("polygon:local", addresses, deployments)
    daemon = DeskDaemon(tmp_path, rpc_url, deployments, bytes(desk_agent.key), max_reward=100 * USDC,
                        daily_budget=500 * USDC, approval_threshold=50 * USDC)  # fmt: skip
    yield daemon.start()
    daemon.stop()


def ticket_file(tmp_path, **over) -> str:
    path = tmp_path / f"ticket-{len(list(tmp_path.glob('ticket-*')))}.json"
    path.write_text(request(**over).model_dump_json())
    return str(path)


def wait_status(desk: DeskDaemon, ref: str, status: DeskStatus) -> None:
    client = DeskClient(desk.url, API_KEY)
    client.wait(ref, until={status}, timeout=30, poll=0.05)


def test_daemon_serves_health_metrics_and_the_api(desk):
    assert http_status(desk.port, "/healthz") == 200
    assert http_status(desk.port, "/readyz") == 200
    metrics = httpx.get(f"http://127.0.0.1:{desk.port}/metrics").text
    assert "desk_head_block" in metrics and "desk_cursor_block" in metrics
    assert httpx.get(f"{desk.url}/v1/jobs").status_code == 401
    assert httpx.get(f"{desk.url}/v1/jobs", headers={"X-Api-Key": API_KEY}).json() == []


def test_cli_posts_by_hand_lists_with_money_and_cancels(desk, tmp_path, system, desk_agent):
    posted = desk.cli("post", ticket_file(tmp_path, ticket_ref="T-CLI-1"))
    assert posted.returncode == 0, posted.stderr
    desk_id = posted.stdout.split()[0]
    assert desk_id.startswith("esc-") and "T-CLI-1" in posted.stdout
    wait_status(desk, desk_id, DeskStatus.OPEN)
    total = usdc(20 * USDC + sum(system.escrow.quote(20 * USDC)))  # reward + oracle and protocol fees
    listed = desk.cli("list")
    row = next(line for line in listed.stdout.splitlines() if line.startswith(desk_id))
    assert row.split()[1:5] == ["T-CLI-1", "open", "20", total]
    shown = desk.cli("show", "T-CLI-1")
    assert f"money      reward 20 USDC, total {total} USDC" in shown.stdout
    assert "card 1" in shown.stdout and "email 1" in shown.stdout  # what redaction removed, by kind
    budget = desk.cli("budget")
    assert f"{total} of 500 USDC committed" in budget.stdout, budget.stdout
    cancelled = desk.cli("cancel", desk_id)
    assert cancelled.returncode == 0 and "cancel sent" in cancelled.stdout
    wait_status(desk, desk_id, DeskStatus.REFUNDED)
    assert system.token.balanceOf(desk_agent.address) == 1_000 * USDC
    assert desk.cli("withdraw").stdout.strip() == "nothing credited to withdraw"
    as_json = [json.loads(line) for line in desk.cli("list", "--json").stdout.splitlines()]
    assert [(j["desk_id"], j["status"]) for j in as_json] == [(desk_id, "refunded")]


def test_cli_approves_an_escalation_over_the_threshold(desk, tmp_path):
    posted = desk.cli("post", ticket_file(tmp_path, reward=60 * USDC))
    assert "awaiting_approval" in posted.stdout
    desk_id = posted.stdout.split()[0]
    approved = desk.cli("approve", desk_id)
    assert approved.returncode == 0 and "posting" in approved.stdout, approved.stderr
    wait_status(desk, desk_id, DeskStatus.OPEN)


def test_cli_errors_are_one_line(desk, tmp_path):
    def failure(*args, **kwargs) -> str:
        result = desk.cli(*args, **kwargs)
        assert result.returncode == 1 and result.stdout == "", result
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        return result.stderr.strip()

    assert failure("show", "esc-nope").startswith("escalation-desk: no escalation 'esc-nope' at this desk")
    assert "over the policy's maximum of 100 USDC" in failure(
        "post", ticket_file(tmp_path, reward=150 * USDC)
    )
    assert "refused the API key" in failure("list", api_key="wrong")
    waiting = desk.cli("post", ticket_file(tmp_path, reward=60 * USDC)).stdout.split()[0]
    assert desk.cli("cancel", waiting).stdout.strip() == f"{waiting} failed: dropped, it was never posted"
    assert "is failed: only an open job can be cancelled" in failure("cancel", waiting)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "broken.json: not JSON" in failure("post", str(broken))
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"ticket_ref": "T-1", "language": "en", "issue": "x", "reward": 1}))
    assert "acceptance_criteria: Field required" in failure("post", str(missing))
    away = desk.cli("--url", f"http://127.0.0.1:{free_port()}", "budget")
    assert away.returncode == 1 and "cannot reach the desk" in away.stderr


def test_killed_desk_catches_up_from_its_database(desk, system, sealed_worker):
    worker, _ = sealed_worker
    client = DeskClient(desk.url, API_KEY)
    view = client.escalate(request())
    wait_status(desk, view.desk_id, DeskStatus.OPEN)
    desk.kill()
    terms = JobTerms.model_validate_json(_terms(desk, view.desk_id))  # read while the desk is down
    system.escrow.acceptJob(terms.as_abi(), sender=worker)
    desk.start()
    accepted = client.wait(view.desk_id, until={DeskStatus.ACCEPTED}, timeout=30, poll=0.05)
    assert accepted.worker == worker.address
    wait_for(lambda: len(client.status(view.desk_id).seals) == 1, timeout=30, what="the sealed context")


def _terms(desk: DeskDaemon, desk_id: str) -> str:
    with create_engine(desk.database_url).connect() as db:
        return str(db.execute(select(jobs.c.terms).where(jobs.c.desk_id == desk_id)).scalar_one())
