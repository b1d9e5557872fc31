"""The relayed flow's transactions as the runtime's sender and tracker see them: the claim that makes
each kind of send happen once per (job, evidence hash) for this key, and what its rows do as it moves."""

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update

from runtime.tracking import TxHooks

from .relay_store import ItemState, by_key, relay_items, relay_sends, set_items_in

log = logging.getLogger(__name__)
SUBMIT_AND_ATTEST, ATTEST_WITH_SIGNATURES, SUBMIT_EVIDENCE_FOR = (
    "submitAndAttest",
    "attestWithSignatures",
    "submitEvidenceFor",
)
RETRY_AFTER = 2.0  # seconds, times the attempts so far, before a reverted send is reconsidered

# The statements of every send and receipt, built once (SQLAlchemy reuses their compiled forms).
SEND_KEY = (
    relay_sends.c.job_id == bindparam("key_job"),
    relay_sends.c.evidence_hash == bindparam("key_hash"),
    relay_sends.c.kind == bindparam("key_kind"),
)
LIVE = select(relay_sends.c.state).where(*SEND_KEY)
RESEND = update(relay_sends).where(*SEND_KEY).values(nonce=bindparam("new_nonce"), state="sent")
ATTEMPTS = by_key(select(relay_items.c.attempts))
MOVE = (
    update(relay_sends)
    .where(relay_sends.c.nonce == bindparam("key_nonce"))
    .values(state=bindparam("new_state"))
    .returning(relay_sends.c.job_id, relay_sends.c.evidence_hash, relay_sends.c.kind)
)


@dataclass(frozen=True)
class RelaySend:
    """What a relayed transaction is for: one kind of send for one (job, evidence hash)."""

    job_id: str
    evidence_hash: str
    kind: str


def claim(db: Connection, send: RelaySend, nonce: int) -> bool:
    """Claims the send for `nonce` (the sender's Claim); False when ours is live already."""
    key = {"key_job": send.job_id, "key_hash": send.evidence_hash, "key_kind": send.kind}
    live = db.execute(LIVE, key).first()
    if live is not None and live.state != "reverted":
        return False
    if live is None:
        db.execute(
            relay_sends.insert(),
            {
                "job_id": send.job_id,
                "evidence_hash": send.evidence_hash,
                "kind": send.kind,
                "nonce": nonce,
                "state": "sent",
            },
        )
    else:
        db.execute(RESEND, {**key, "new_nonce": nonce})
    state = ItemState.FALLBACK if send.kind == SUBMIT_EVIDENCE_FOR else ItemState.SENDING
    set_items_in(db, [(send.job_id, send.evidence_hash, {"state": state})])
    return True


class RelayHooks:
    """Moves the send and item rows with the transaction (a runtime TxHooks)."""

    def mined(self, db: Connection, nonce: int, tx_hash: str, succeeded: bool) -> None:
        """A verdict sent with its signatures is final; a reverted send is reconsidered later."""
        current = _move(db, nonce, "mined" if succeeded else "reverted")
        if current is None or current.kind == SUBMIT_EVIDENCE_FOR:
            return  # the evidence is on chain (or someone else's is): the on-chain path goes on
        if succeeded:
            set_items_in(
                db, [(current.job_id, current.evidence_hash, {"state": ItemState.DONE, "detail": "sent"})]
            )
            return
        log.warning("relayed verdict reverted", extra={"job_id": current.job_id, "tx_hash": tx_hash})
        key = {"key_job": current.job_id, "key_hash": current.evidence_hash}
        attempts = 1 + db.execute(ATTEMPTS, key).scalar_one()
        again = {
            "state": ItemState.SIGNED,
            "attempts": attempts,
            "retry_at": time.time() + RETRY_AFTER * attempts,
            "detail": "our transaction reverted",
        }
        set_items_in(db, [(current.job_id, current.evidence_hash, again)])

    def dropped(self, db: Connection, nonce: int) -> None:
        """Its block left the chain: the same bytes are sent again."""
        _move(db, nonce, "sent")

    def confirmed(self, db: Connection, nonce: int, succeeded: bool) -> None:
        """Deep enough."""
        if succeeded:
            db.execute(MOVE, {"key_nonce": nonce, "new_state": "confirmed"})

    def abandoned(self, db: Connection, nonce: int, detail: str) -> None:
        """Its nonce went to another transaction: reconsidered at once."""
        current = _move(db, nonce, "reverted")
        if current is not None and current.kind != SUBMIT_EVIDENCE_FOR:
            set_items_in(
                db, [(current.job_id, current.evidence_hash, {"state": ItemState.SIGNED, "detail": detail})]
            )


class BothHooks:
    """The attestations' hooks and the relayed sends' hooks on one tracker; each acts on its own rows."""

    def __init__(self, *hooks: TxHooks) -> None:
        self._hooks = hooks

    def mined(self, db: Connection, nonce: int, tx_hash: str, succeeded: bool) -> None:
        """Passed to each."""
        for hooks in self._hooks:
            hooks.mined(db, nonce, tx_hash, succeeded)

    def dropped(self, db: Connection, nonce: int) -> None:
        """Passed to each."""
        for hooks in self._hooks:
            hooks.dropped(db, nonce)

    def confirmed(self, db: Connection, nonce: int, succeeded: bool) -> None:
        """Passed to each."""
        for hooks in self._hooks:
            hooks.confirmed(db, nonce, succeeded)

    def abandoned(self, db: Connection, nonce: int, detail: str) -> None:
        """Passed to each."""
        for hooks in self._hooks:
            hooks.abandoned(db, nonce, detail)


def _move(db: Connection, nonce: int, state: str) -> Row[Any] | None:
    """Sets the state of the send whose current attempt is `nonce`; None when it is not one of ours."""
    return db.execute(MOVE, {"key_nonce": nonce, "new_state": state}).first()
