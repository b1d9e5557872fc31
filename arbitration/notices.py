"""Telling the arbitrator it was drawn: a log line with the deadlines, an optional webhook POST and an
optional e-mail through the arbitrator's own SMTP server."""

import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

import httpx
from sqlalchemy import Engine, select, update

from runtime.db import transaction

from .tables import seats

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT = 5.0  # seconds; a webhook that does not answer is logged, never retried forever
SMTP_TIMEOUT = 10.0  # seconds; likewise for the mail server


def when(seconds: int) -> str:
    """A unix time as ISO 8601 UTC."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Mail:
    """Where e-mail notices go and through which server."""

    to: str
    sender: str
    host: str
    port: int
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    def send(self, subject: str, body: str) -> None:
        """Sends one message; raises OSError or smtplib.SMTPException when the server refuses."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, self.to, subject
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT) as server:
            if self.starttls:
                server.starttls()
            if self.username:
                server.login(self.username, self.password or "")
            server.send_message(message)


class Notifier:
    """Announces each new seat once (the row is marked in the same pass)."""

    def __init__(self, me: str, webhook_url: str | None, mail: Mail | None = None) -> None:
        self._me, self._webhook, self._mail = me, webhook_url, mail

    def notify_new(self, engine: Engine) -> int:
        """Logs (and posts, and mails) every seat not yet announced; returns how many."""
        with engine.connect() as db:
            fresh = db.execute(select(seats).where(seats.c.notified.is_(False))).all()
        for seat in fresh:
            notice = {
                "arbitrator": self._me,
                "dispute_id": seat.dispute_id,
                "round": seat.round,
                "commit_by": when(seat.commit_end),
                "reveal_by": when(seat.reveal_end),
            }
            line = (
                f"drawn in dispute {seat.dispute_id} round {seat.round}: vote by {notice['commit_by']} "
                f"(`arbitrator vote {seat.dispute_id} <choice>`), reveal by {notice['reveal_by']}"
            )
            log.warning(line, extra=notice)
            if self._webhook:
                self._post(notice)
            if self._mail is not None:
                self._send_mail(notice, line)
            with transaction(engine) as db:
                db.execute(
                    update(seats)
                    .where(seats.c.dispute_id == seat.dispute_id)
                    .where(seats.c.round == seat.round)
                    .values(notified=True)
                )
        return len(fresh)

    def _post(self, notice: dict[str, object]) -> None:
        try:
            body = {"event": "drawn", **notice}
            answer = httpx.post(self._webhook or "", json=body, timeout=WEBHOOK_TIMEOUT)
            answer.raise_for_status()
        except httpx.HTTPError as error:
            log.error("webhook failed: %s", error, extra={"dispute_id": notice["dispute_id"]})

    def _send_mail(self, notice: dict[str, object], line: str) -> None:
        assert self._mail is not None
        subject = f"Drawn as arbitrator in dispute {notice['dispute_id']}: vote by {notice['commit_by']}"
        try:
            self._mail.send(subject, f"{line}\n\narbitrator {self._me}\n")
        except (OSError, smtplib.SMTPException) as error:
            log.error(
                "e-mail notice failed: %s; check the ARBITRATOR_SMTP_* settings",
                error,
                extra={"dispute_id": notice["dispute_id"]},
            )
