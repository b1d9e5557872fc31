"""Helpdesk check: the adapter against a real HTTP helpdesk, and the verifier combining it with the bundle."""

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from oracle_node.errors import (
    HelpdeskAuthError,
    HelpdeskConfigError,
    TransientFetchError,
    TransientVerificationError,
)
from oracle_node.fetch import EvidenceFetcher
from oracle_node.helpdesk import HelpdeskCheck
from oracle_node.settings import NodeSettings
from oracle_node.verdicts import Reason, VerificationRequest
from oracle_node.verify import Verifier
from tests.oracle_node.evidence_server import (
    OTHER_KEY,
    ZERO_ADDRESS,
    EvidenceServer,
    Route,
    make_bundle,
    make_request,
    serving,
)

TOKEN = "desk-secret"
AUTH = {"X-Api-Key": TOKEN}
TICKET = "/tickets/ZD-1042"  # the ticket of make_bundle()
GOOD = make_bundle().canonical()


@pytest.fixture
def server() -> Iterator[EvidenceServer]:
    with serving() as running:
        yield running


def _ticket(server: EvidenceServer, document: Any, path: str = TICKET, **route: Any) -> None:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    server.add(path, Route(body, require=AUTH, headers={"Content-Type": "application/json"}, **route))


def _desk(server: EvidenceServer, **over: Any) -> HelpdeskCheck:
    options = {
        "url_template": server.url("/tickets/{ticket_ref}"),
        "auth_header": "X-Api-Key",
        "token": TOKEN,
        "json_path": "ticket.status",
        "solved_values": ["solved", "closed"],
        "timeout": 2.0,
        **over,
    }
    return HelpdeskCheck(**options)


def test_solved_status_counts_case_insensitively(server):
    _ticket(server, {"ticket": {"status": "Solved"}})
    assert _desk(server).is_solved("ZD-1042") is True
    assert server.request_headers[-1]["X-Api-Key"] == TOKEN


def test_open_status_is_not_solved(server):
    _ticket(server, {"ticket": {"status": "open"}})
    assert _desk(server).is_solved("ZD-1042") is False


def test_unknown_ticket_is_not_solved(server):
    assert _desk(server).is_solved("ZD-404") is False
    assert server.hits["/tickets/ZD-404"] == 1


def test_path_walks_list_items(server):
    _ticket(server, {"items": [{"status": "closed"}, {"status": "open"}]})
    assert _desk(server, json_path="items.0.status").is_solved("ZD-1042") is True
    assert _desk(server, json_path="items.1.status").is_solved("ZD-1042") is False


def test_numeric_statuses_compare_as_text(server):
    _ticket(server, {"status": 4})  # Freshdesk's "resolved"
    assert _desk(server, json_path="status", solved_values=["4", "5"]).is_solved("ZD-1042") is True


def test_ticket_ref_is_quoted_into_one_path_segment(server):
    _ticket(server, {"ticket": {"status": "solved"}}, path="/tickets/ZD%2F10%2042%3F")
    assert _desk(server).is_solved("ZD/10 42?") is True


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>maintenance</html>", id="not-json"),
        pytest.param(json.dumps({"ticket": {}}).encode(), id="missing-status"),
        pytest.param(json.dumps({"ticket": {"status": None}}).encode(), id="null-status"),
        pytest.param(json.dumps({"ticket": {"status": True}}).encode(), id="bool-status"),
        pytest.param(json.dumps({"ticket": ["solved"]}).encode(), id="list-not-object"),
        pytest.param(json.dumps(["solved"]).encode(), id="top-level-list"),
    ],
)
def test_nonsense_answer_is_not_solved(server, body):
    _ticket(server, body)
    assert _desk(server).is_solved("ZD-1042") is False
    assert server.hits[TICKET] == 1


def test_wrong_token_is_a_configuration_error(server):
    _ticket(server, {"ticket": {"status": "solved"}})
    with pytest.raises(HelpdeskAuthError, match="ORACLE_NODE_HELPDESK_TOKEN"):
        _desk(server, token="stale").is_solved("ZD-1042")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_transient(server, status):
    _ticket(server, {"error": "busy"}, status=status)
    with pytest.raises(TransientFetchError, match=str(status)):
        _desk(server).is_solved("ZD-1042")


def test_unreachable_helpdesk_is_transient():
    with socket.socket() as refused:  # bound, never listening: connections are refused
        refused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{refused.getsockname()[1]}/tickets/{{ticket_ref}}"
        with pytest.raises(TransientFetchError, match="ConnectError"):
            HelpdeskCheck(url, "X-Api-Key", TOKEN, "status", ["solved"], 2.0).is_solved("ZD-1042")


@pytest.mark.parametrize(
    "template", ["https://desk.example/tickets", "https://desk.example/{ticket}/{ticket_ref}"]
)
def test_template_must_take_only_the_ticket_ref(template):
    with pytest.raises(HelpdeskConfigError, match="ticket_ref"):
        HelpdeskCheck(template, "X-Api-Key", TOKEN, "status", ["solved"], 2.0)


def _verify(
    server: EvidenceServer, raw: bytes = GOOD, **request: Any
) -> tuple[Verifier, VerificationRequest]:
    sleeps: list[float] = []
    fetcher = EvidenceFetcher(max_bytes=4096, timeout=2.0, allow_private_hosts=True)
    verifier = Verifier(fetcher, _desk(server), attempts=3, backoff=0, sleep=sleeps.append)
    return verifier, make_request(server.add("/evidence", Route(raw)), raw, **request)


@pytest.mark.parametrize(
    ("status", "confirmer", "approve", "reason"),
    [
        ("solved", None, True, Reason.CONFIRMED),
        ("open", None, False, Reason.HELPDESK_NOT_SOLVED),
        ("solved", ZERO_ADDRESS, True, Reason.CONFIRMED),
        ("open", ZERO_ADDRESS, False, Reason.HELPDESK_NOT_SOLVED),
    ],
    ids=["signed-solved", "signed-open", "no-confirmer-solved", "no-confirmer-open"],
)
def test_verifier_asks_the_helpdesk(server, status, confirmer, approve, reason):
    _ticket(server, {"ticket": {"status": status}})
    verifier, request = _verify(server, **({"confirmer": confirmer} if confirmer else {}))
    verdict = verifier.verify(request)
    assert (verdict.approve, verdict.reason) == (approve, reason)
    assert server.hits[TICKET] == 1


def test_rejected_bundle_does_not_ask_the_helpdesk(server):
    _ticket(server, {"ticket": {"status": "solved"}})
    verifier, request = _verify(server, make_bundle(OTHER_KEY).canonical())
    assert verifier.verify(request).reason is Reason.BAD_SIGNATURE
    assert server.hits[TICKET] == 0


def test_helpdesk_down_retries_then_defers_the_job(server):
    _ticket(server, {"error": "down"}, status=503)
    verifier, request = _verify(server)
    with pytest.raises(TransientVerificationError, match="retried later"):
        verifier.verify(request)
    assert server.hits[TICKET] == 3
    assert server.hits["/evidence"] == 1


def test_helpdesk_refusing_the_token_stops_the_verification(server):
    _ticket(server, {"ticket": {"status": "solved"}})
    _, request = _verify(server)
    verifier = Verifier(
        EvidenceFetcher(max_bytes=4096, timeout=2.0, allow_private_hosts=True), _desk(server, token="x")
    )
    with pytest.raises(HelpdeskAuthError):
        verifier.verify(request)
    assert server.hits[TICKET] == 1


def test_from_settings_wires_the_helpdesk(server):
    _ticket(server, {"state": "Closed"})
    settings = NodeSettings(
        allow_private_hosts=True,
        fetch_backoff=0,
        helpdesk_url=server.url("/tickets/{ticket_ref}"),
        helpdesk_auth_header="X-Api-Key",
        helpdesk_token=SecretStr(TOKEN),
        helpdesk_json_path="state",
    )
    _, request = _verify(server, confirmer=ZERO_ADDRESS)
    verdict = Verifier.from_settings(settings).verify(request)
    assert (verdict.approve, verdict.reason) == (True, Reason.CONFIRMED)
    assert server.hits[TICKET] == 1
