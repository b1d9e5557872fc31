"""Telling the arbitrator it was drawn: a log line with the deadlines, and an optional webhook POST."""

import logging
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine, select, update

from runtime.db import transaction

from .tables import seats

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT = 5.0  # seconds; a webhook that does not answer is logged, never retried forever


def when(seconds: int) -> str:
    """A unix time as ISO 8601 UTC."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Notifier:
    """Announces each new seat once (the row is marked in the same pass)."""

    def __init__(self, me: str, webhook_url: str | None) -> None:
        self._me, self._webhook = me, webhook_url

    def notify_new(self, engine: Engine) -> int:
        """Logs (and posts) every seat not yet announced; returns how many."""
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
            log.warning(
                "drawn in dispute %s round %s: vote by %s (`arbitrator vote %s <choice>`), reveal by %s",
                seat.dispute_id,
                seat.round,
                notice["commit_by"],
                seat.dispute_id,
                notice["reveal_by"],
                extra=notice,
            )
            if self._webhook:
                self._post(notice)
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
            httpx.post(self._webhook or "", json={"event": "drawn", **notice}, timeout=WEBHOOK_TIMEOUT)
        except httpx.HTTPError as error:
            log.error("webhook failed: %s", error, extra={"dispute_id": notice["dispute_id"]})
