"""Drawn notices reach the arbitrator: a JSON POST to a real HTTP server and an e-mail through a real
SMTP server (aiosmtpd), both on 127.0.0.1; each seat is announced once, and a server that fails is a
logged line that says what to check, never a retry loop."""

import json
import logging
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from arbitration.notices import Mail, Notifier
from arbitration.tables import schema, seats
from devtools.chain import free_port
from runtime.db import connect, transaction

ME = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"


class Inbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def webhook():
    received: list[tuple[str, dict]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, body))
            self.send_response(500 if self.path == "/broken" else 204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _drawn(tmp_path, *dispute_ids: int):
    engine = connect(f"sqlite:///{tmp_path}/arb.db", schema)
    with transaction(engine) as db:
        for dispute_id in dispute_ids:
            seat = {"dispute_id": dispute_id, "round": 0, "block_number": 1, "notified": False}
            db.execute(seats.insert().values(commit_end=1_900_000_000, reveal_end=1_900_001_800, **seat))
    return engine


def test_drawn_seat_is_posted_and_mailed_once(tmp_path, smtp, webhook):
    inbox, port = smtp
    received, url = webhook
    engine = _drawn(tmp_path, 7)
    mail = Mail("me@example.org", "arbitrator@example.org", "127.0.0.1", port)
    notifier = Notifier(ME, f"{url}/hook", mail)
    assert notifier.notify_new(engine) == 1
    assert notifier.notify_new(engine) == 0  # once per seat
    assert received == [
        ("/hook", {"event": "drawn", "arbitrator": ME, "dispute_id": 7, "round": 0,
                   "commit_by": "2030-03-17T17:46:40Z", "reveal_by": "2030-03-17T18:16:40Z"}),
    ]  # fmt: skip
    ((sender, to, raw),) = inbox.messages
    assert (sender, to) == ("arbitrator@example.org", ["me@example.org"])
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Drawn as arbitrator in dispute 7: vote by 2030-03-17T17:46:40Z"
    body = message.get_content()  # type: ignore[attr-defined]
    assert "`arbitrator vote 7 <choice>`" in body and "reveal by 2030-03-17T18:16:40Z" in body and ME in body


def test_failing_servers_are_logged_and_the_seat_still_counts_as_announced(tmp_path, webhook, caplog):
    received, url = webhook
    engine = _drawn(tmp_path, 8)
    nobody = Mail("me@example.org", "arbitrator@example.org", "127.0.0.1", free_port())  # nothing listens
    with caplog.at_level(logging.ERROR):
        assert Notifier(ME, f"{url}/broken", nobody).notify_new(engine) == 1
    errors = [r.getMessage() for r in caplog.records]
    assert len(errors) == 2 and len(received) == 1
    assert errors[0].startswith("webhook failed: Server error '500 Internal Server Error'")
    assert errors[1].startswith("e-mail notice failed: ") and errors[1].endswith(
        "check the ARBITRATOR_SMTP_* settings"
    )
    with engine.connect() as db:
        assert db.execute(select(seats.c.notified)).scalars().all() == [True]
