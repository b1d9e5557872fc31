"""Customer confirmations from the company's helpdesk: a generic JSON webhook, HMAC-checked, turned
into the EIP-712 confirmation the job's confirmer (a key the desk holds) signs for the worker's bundle.

The helpdesk POSTs `{"ticket_ref": "...", "outcome": "resolved" | "unresolved", "confirmed_at": <unix s>}`
with the header `X-Helpdesk-Signature: <hex HMAC-SHA256 of the raw body with the shared secret>`.
"""

import hashlib
import hmac
import json
from typing import Literal

from eth_account.signers.local import LocalAccount
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine, select, update

from protocol_core.evidence import Outcome, sign_confirmation
from runtime.db import transaction

from .errors import BadWebhook, NotAllowedNow, UnknownJob
from .tables import jobs

SIGNATURE_HEADER = "X-Helpdesk-Signature"


class HelpdeskConfirmation(BaseModel):
    """The helpdesk's word that the customer confirmed (or denied) the resolution."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticket_ref: str = Field(min_length=1, max_length=128)
    outcome: Literal["resolved", "unresolved"]
    confirmed_at: int = Field(ge=0, lt=2**64)


def verify_webhook(secret: str, body: bytes, signature: str | None) -> HelpdeskConfirmation:
    """The confirmation in `body` if `signature` is its HMAC with `secret`; BadWebhook otherwise."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not signature or not hmac.compare_digest(expected, signature.strip().lower()):
        raise BadWebhook(
            f"the body is not signed with the shared secret: send {SIGNATURE_HEADER}: <hex HMAC-SHA256>"
        )
    try:
        return HelpdeskConfirmation.model_validate_json(body)
    except ValidationError as exc:
        raise BadWebhook(f"the webhook body is not a confirmation: {exc}") from exc


class Confirmations:
    """Signs the customer's confirmation as the jobs' confirmer and keeps it for the worker."""

    def __init__(self, engine: Engine, confirmer: LocalAccount, chain_id: int, escrow: str) -> None:
        self.engine, self.confirmer, self.chain_id, self.escrow = engine, confirmer, chain_id, escrow

    def confirm(self, event: HelpdeskConfirmation) -> dict[str, str | int]:
        """The signed confirmation for the ticket's posted job (stored with the job)."""
        with self.engine.connect() as db:
            row = db.execute(
                select(jobs).where(jobs.c.ticket_ref == event.ticket_ref).where(jobs.c.job_id.is_not(None))
                .order_by(jobs.c.created_at.desc())
            ).first()  # fmt: skip
        if row is None:
            raise UnknownJob(f"no posted job for ticket {event.ticket_ref!r} at this desk")
        if row.status not in ("accepted", "submitted"):
            raise NotAllowedNow(f"job {row.job_id} is {row.status}: a confirmation is for an accepted job")
        outcome = Outcome.RESOLVED if event.outcome == "resolved" else Outcome.UNRESOLVED
        signature = sign_confirmation(
            self.confirmer.key, chain_id=self.chain_id, escrow=self.escrow,
            job_id=bytes.fromhex(row.job_id[2:]), ticket_ref=event.ticket_ref, outcome=int(outcome),
            confirmed_at=event.confirmed_at,
        )  # fmt: skip
        record: dict[str, str | int] = {
            "job_id": row.job_id, "ticket_ref": event.ticket_ref, "outcome": int(outcome),
            "confirmed_at": event.confirmed_at, "confirmation": signature,
        }  # fmt: skip
        with transaction(self.engine) as db:
            db.execute(
                update(jobs).where(jobs.c.desk_id == row.desk_id).values(confirmation=json.dumps(record))
            )
        return record
