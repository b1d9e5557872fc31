"""Telling the agent what happened: one notice per status change, POSTed to its callback URL, signed."""

import hashlib
import hmac
import json
import logging

import httpx
from sqlalchemy import Connection, Engine, select, update

from runtime.db import transaction

from .tables import jobs, notices

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20  # a callback that failed this often is given up (the status query still answers)
SIGNATURE_HEADER = "X-Desk-Signature"  # hex HMAC-SHA256 of the body with the desk's callback secret


class Notifier:
    """Records notices in the job's transaction and delivers them later, at least once each."""

    def __init__(self, engine: Engine, secret: str, timeout: float = 5.0) -> None:
        self.engine, self._secret, self._timeout = engine, secret.encode(), timeout

    def record(self, db: Connection, desk_id: str, status: str, detail: str | None = None) -> None:
        """A notice of `status` (and why, when it needs saying) for `desk_id`, in the caller's transaction."""
        db.execute(
            notices.insert().values(
                desk_id=desk_id, status=status, detail=detail, delivered=False, attempts=0
            )
        )

    def deliver(self) -> int:
        """Posts every undelivered notice whose job has a callback URL; returns how many arrived."""
        with self.engine.connect() as db:
            pending = db.execute(
                select(notices, jobs.c.callback_url, jobs.c.job_id, jobs.c.ticket_ref)
                .join(jobs, jobs.c.desk_id == notices.c.desk_id)
                .where(notices.c.delivered.is_(False)).where(notices.c.attempts < MAX_ATTEMPTS)
                .order_by(notices.c.id)
            ).all()  # fmt: skip
        delivered = 0
        for notice in pending:
            ok = notice.callback_url is None or self._post(notice)
            with transaction(self.engine) as db:
                db.execute(
                    update(notices).where(notices.c.id == notice.id)
                    .values(delivered=ok, attempts=notice.attempts + 1)
                )  # fmt: skip
            delivered += ok and notice.callback_url is not None
        return delivered

    def _post(self, notice: object) -> bool:
        body = json.dumps(
            {"desk_id": notice.desk_id, "job_id": notice.job_id, "ticket_ref": notice.ticket_ref,  # type: ignore[attr-defined]
             "status": notice.status, "notice": notice.id,  # type: ignore[attr-defined]
             **({"detail": notice.detail} if notice.detail else {})},  # type: ignore[attr-defined]
            sort_keys=True,
        ).encode()  # fmt: skip
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        try:
            response = httpx.post(
                notice.callback_url,  # type: ignore[attr-defined]
                content=body,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
                timeout=self._timeout,
            )
        except httpx.HTTPError as error:
            log.warning("callback %s failed: %s", notice.callback_url, error)  # type: ignore[attr-defined]
            return False
        return response.status_code < 300
