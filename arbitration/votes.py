"""My votes as the runtime's sender and tracker see them: the claims that make each commit and each
reveal one transaction, and what the rows do as those transactions move."""

import logging
import os
import time
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from runtime.db import insert_ignore

from .tables import keeper_calls, votes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoteStep:
    """A commit or a reveal of my vote on (dispute, round)."""

    dispute_id: int
    round: int
    step: str  # "commit" or "reveal"


@dataclass(frozen=True)
class KeeperCall:
    """A call anyone may make that this daemon makes because it is due."""

    dispute_id: int
    action: str


Purpose = VoteStep | KeeperCall


def give(db: Connection, dispute_id: int, round_index: int, choice: int) -> bool:
    """Records my vote with a fresh salt, durably, before anything is signed; False when one is given."""
    before = db.execute(_vote(dispute_id, round_index)).first()
    if before is not None:
        return False
    salt = "0x" + os.urandom(32).hex()
    insert_ignore(
        db,
        votes,
        dispute_id=dispute_id,
        round=round_index,
        choice=choice,
        salt=salt,
        given_at=time.time(),
        commit_state="waiting",
        reveal_state="waiting",
        detail="",
    )
    return True


def claim(db: Connection, purpose: Purpose, nonce: int) -> bool:
    """The sender's Claim: ties `nonce` to the step, unless the step is already in flight or done."""
    if isinstance(purpose, KeeperCall):
        live = db.execute(
            select(keeper_calls.c.id)
            .where(keeper_calls.c.dispute_id == purpose.dispute_id)
            .where(keeper_calls.c.action == purpose.action)
            .where(keeper_calls.c.state == "sent")
        ).first()
        if live is not None:
            return False
        db.execute(
            keeper_calls.insert().values(
                dispute_id=purpose.dispute_id, action=purpose.action, nonce=nonce, state="sent"
            )
        )
        return True
    row = db.execute(_vote(purpose.dispute_id, purpose.round)).first()
    state = None if row is None else getattr(row, f"{purpose.step}_state")
    if state != "waiting":
        return False
    db.execute(
        update(votes)
        .where(votes.c.dispute_id == purpose.dispute_id)
        .where(votes.c.round == purpose.round)
        .values({f"{purpose.step}_nonce": nonce, f"{purpose.step}_state": "sent"})
    )
    return True


class VoteHooks:
    """Moves vote and keeper rows with their transactions (a runtime TxHooks)."""

    def mined(self, db: Connection, nonce: int, tx_hash: str, succeeded: bool) -> None:
        """Done, or failed (the detail says the transaction reverted)."""
        self._set(db, nonce, "done" if succeeded else "failed", "" if succeeded else f"reverted: {tx_hash}")
        if not succeeded:
            log.error("transaction reverted", extra={"nonce": nonce, "tx_hash": tx_hash})

    def dropped(self, db: Connection, nonce: int) -> None:
        """Its block left the chain; the same bytes are re-sent, so the step is in flight again."""
        self._set(db, nonce, "sent", "")

    def confirmed(self, db: Connection, nonce: int, succeeded: bool) -> None:
        """Nothing more to record."""

    def abandoned(self, db: Connection, nonce: int, detail: str) -> None:
        """Another transaction took the nonce: ours never landed, so the step is due again."""
        for step in ("commit", "reveal"):
            nonce_col, state_col = votes.c[f"{step}_nonce"], votes.c[f"{step}_state"]
            db.execute(
                update(votes)
                .where(nonce_col == nonce)
                .where(state_col == "sent")
                .values({f"{step}_nonce": None, f"{step}_state": "waiting", "detail": detail})
            )
        db.execute(update(keeper_calls).where(keeper_calls.c.nonce == nonce).values(state="failed"))

    def _set(self, db: Connection, nonce: int, state: str, detail: str) -> None:
        for step in ("commit", "reveal"):
            db.execute(
                update(votes)
                .where(votes.c[f"{step}_nonce"] == nonce)
                .values({f"{step}_state": state, "detail": detail})
            )
        db.execute(update(keeper_calls).where(keeper_calls.c.nonce == nonce).values(state=state))


def _vote(dispute_id: int, round_index: int):  # type: ignore[no-untyped-def]
    return select(votes).where(votes.c.dispute_id == dispute_id).where(votes.c.round == round_index)
