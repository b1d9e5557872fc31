"""The node's attestations as the runtime's sender and tracker see them: the claim that makes each one
happen once per (job, evidence hash), and what its rows do as its transaction moves."""

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Update, bindparam, select, update

from .store import EvidenceState, attestations, evidence

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # attestations of one (job, evidence hash) that may fail on chain before it is dropped
RETRY_AFTER = 5.0  # seconds, times the attempts so far, before a failed attestation is reconsidered


MOVE = (  # every receipt of the node's key runs it: built once (SQLAlchemy reuses its compiled form)
    update(attestations)
    .where(attestations.c.nonce == bindparam("key_nonce"))
    .values(state=bindparam("new_state"))
    .returning(attestations.c.job_id, attestations.c.evidence_hash)
)


@dataclass(frozen=True)
class Attestation:
    """What an attestation transaction is for: our verdict on one (job, evidence hash)."""

    job_id: str
    evidence_hash: str
    approve: bool
    reason: int


def claim(db: Connection, attestation: Attestation, nonce: int) -> bool:
    """Claims the (job, evidence hash) for `nonce` (the sender's Claim); False when ours is live already."""
    job_id, evidence_hash = attestation.job_id, attestation.evidence_hash
    live = db.execute(
        select(attestations.c.state)
        .where(attestations.c.job_id == job_id)
        .where(attestations.c.evidence_hash == evidence_hash)
    ).first()
    if live is not None and live.state != "reverted":
        db.execute(evidence_row(job_id, evidence_hash).values(state=EvidenceState.DONE))
        return False
    values = dict(approve=attestation.approve, reason=attestation.reason, nonce=nonce, state="sent")
    if live is None:
        db.execute(attestations.insert().values(job_id=job_id, evidence_hash=evidence_hash, **values))
    else:
        db.execute(attestation_row(job_id, evidence_hash).values(**values))
    db.execute(evidence_row(job_id, evidence_hash).values(state=EvidenceState.ATTESTING))
    return True


class AttestationHooks:
    """Moves the attestation and evidence rows with the attestation's transaction (a runtime TxHooks)."""

    def mined(self, db: Connection, nonce: int, tx_hash: str, succeeded: bool) -> None:
        """Done when it succeeded; reverted (the quorum was reached first, or worse): reconsidered later."""
        current = _move(db, nonce, "mined" if succeeded else "reverted")
        if not succeeded:
            log.warning("attestation reverted", extra={"job_id": _job(current), "tx_hash": tx_hash})
        if current is not None and succeeded:
            db.execute(evidence_row(current.job_id, current.evidence_hash).values(state=EvidenceState.DONE))
        elif current is not None:
            _back_to_reconciler(db, current, "attestation reverted")

    def dropped(self, db: Connection, nonce: int) -> None:
        """Its block left the chain: sent again, so attesting again."""
        current = _move(db, nonce, "sent")
        log.warning(
            "attestation dropped by a reorg; re-sending", extra={"job_id": _job(current), "nonce": nonce}
        )
        if current is not None:
            db.execute(
                evidence_row(current.job_id, current.evidence_hash).values(state=EvidenceState.ATTESTING)
            )

    def confirmed(self, db: Connection, nonce: int, succeeded: bool) -> None:
        """Deep enough: a successful attestation is confirmed."""
        if succeeded:
            db.execute(MOVE, {"key_nonce": nonce, "new_state": "confirmed"})

    def abandoned(self, db: Connection, nonce: int, detail: str) -> None:
        """Its nonce went to another transaction: the stored verdict is re-signed at a fresh nonce at
        once, without verifying again (not the attestation's failure: no count toward MAX_ATTEMPTS)."""
        current = _move(db, nonce, "reverted")
        log.warning("attestation re-signed: %s", detail, extra={"job_id": _job(current), "nonce": nonce})
        if current is not None:
            db.execute(
                evidence_row(current.job_id, current.evidence_hash).values(
                    state=EvidenceState.DECIDED, retry_at=0.0, detail=detail
                )
            )


def attestation_row(job_id: str, evidence_hash: str) -> Update:
    """An update of the attestation of one (job, evidence hash)."""
    return (
        update(attestations)
        .where(attestations.c.job_id == job_id)
        .where(attestations.c.evidence_hash == evidence_hash)
    )


def evidence_row(job_id: str, evidence_hash: str) -> Update:
    """An update of the evidence row of one (job, evidence hash)."""
    return (
        update(evidence).where(evidence.c.job_id == job_id).where(evidence.c.evidence_hash == evidence_hash)
    )


def _move(db: Connection, nonce: int, state: str) -> Row[Any] | None:
    """Sets the state of the attestation whose current attempt is `nonce`; its (job, evidence hash), or
    None when `nonce` was an older attempt (news of it changes nothing)."""
    return db.execute(MOVE, {"key_nonce": nonce, "new_state": state}).first()


def _job(current: Row[Any] | None) -> str | None:
    return current.job_id if current is not None else None


def _back_to_reconciler(db: Connection, current: Row[Any], detail: str) -> None:
    """After a failed attempt the evidence is reconsidered later; after MAX_ATTEMPTS it is dropped."""
    job_id, evidence_hash = current.job_id, current.evidence_hash
    attempts = (
        1
        + db.execute(
            select(evidence.c.attempts)
            .where(evidence.c.job_id == job_id)
            .where(evidence.c.evidence_hash == evidence_hash)
        ).scalar_one()
    )
    state = EvidenceState.SEEN if attempts < MAX_ATTEMPTS else EvidenceState.SKIPPED
    db.execute(
        evidence_row(job_id, evidence_hash).values(
            state=state, attempts=attempts, retry_at=time.time() + RETRY_AFTER * attempts, detail=detail
        )
    )
