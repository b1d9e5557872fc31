"""The read model as a fold of facts: an entity's row is what its facts, in chain order, leave behind.

Pure. The same functions apply new facts to a stored row and rebuild a row from all its facts after
a reorg, so the two can never disagree.
"""

from collections.abc import Callable, Iterable
from typing import Any

from protocol_core.enums import JobStatus, RoundPhase

from .facts import Fact, Kind

Row = dict[str, Any]
SNAPSHOT = "Snapshot"  # a view read pinned to the block of the entity's last event in a range


def fold(kind: Kind, key: str, row: Row | None, facts: Iterable[Fact]) -> Row | None:
    """`row` (None: the entity is new) with `facts` applied in order; None while it has no row to show."""
    apply = APPLY[kind]
    for fact in facts:
        row = apply(key, row, fact)
    return row


def _worker(key: str, row: Row | None, fact: Fact) -> Row | None:
    a = fact.args
    row = dict(row) if row is not None else {
        "address": key, "languages": 0, "expertise": "0", "certifications": 0, "max_concurrent": 0,
        "active_jobs": 0, "available": False, "completed": 0, "missed_deadlines": 0, "disputes_lost": 0,
        "encryption_key": "0x" + "00" * 32, "profile_uri": "",
    }  # fmt: skip
    if fact.name == "WorkerRegistered":
        row |= {"languages": _signed64(int(a["languages"])), "expertise": str(a["expertise"]),
                "max_concurrent": a["maxConcurrent"], "encryption_key": a["encryptionKey"],
                "profile_uri": a["profileURI"]}  # fmt: skip
    elif fact.name == "AvailabilityChanged":
        row["available"] = a["available"]
    elif fact.name == "CertificationsChanged":
        row["certifications"] = a["certifications"]
    elif fact.name == "WorkRecorded":
        row |= {"active_jobs": a["activeJobs"], "completed": a["completed"],
                "missed_deadlines": a["missedDeadlines"], "disputes_lost": a["disputesLost"]}  # fmt: skip
    return row | {"block": fact.block}


def _signed64(value: int) -> int:
    """A uint64 bit set in a signed BIGINT column (bit 63 becomes the sign), so SQL can test bits."""
    return value - 2**64 if value >= 2**63 else value


def _job(key: str, row: Row | None, fact: Fact) -> Row | None:
    a = fact.args
    if fact.name == "JobPosted":
        (agent, reward, confirmer, oracle_fee, protocol_fee, offered_to, accept_by, resolve_by, window, spec,
         (language, expertise, certifications)) = a["terms"]  # fmt: skip
        return {
            "job_id": key, "agent": agent, "offered_to": offered_to, "confirmer": confirmer,
            "reward": str(reward), "oracle_fee": str(oracle_fee), "protocol_fee": str(protocol_fee),
            "accept_by": accept_by, "resolve_by": resolve_by, "challenge_window": window, "spec_hash": spec,
            "language": language, "expertise": str(expertise), "certifications": certifications,
            "status": JobStatus.OPEN, "worker": None, "deadline": accept_by, "evidence_hash": None,
            "evidence_uri": None, "approved": None, "paid": None, "refunded": None, "refund_reason": None,
            "dispute_id": None, "ruling": None, "posted_block": fact.block, "block": fact.block,
        }  # fmt: skip
    if row is None:
        return None  # posted before the indexer's first block: its terms are unknown
    row = dict(row) | {"block": fact.block}
    if fact.name == "JobAccepted":
        row |= {"status": JobStatus.ACCEPTED, "worker": a["worker"], "deadline": row["resolve_by"]}
    elif fact.name == "EvidenceSubmitted":
        row |= {"status": JobStatus.SUBMITTED, "evidence_hash": a["evidenceHash"], "evidence_uri": a["uri"],
                "deadline": a["verifyBy"]}  # fmt: skip
    elif fact.name == "VerdictRecorded":
        status = JobStatus.APPROVED if a["approved"] else JobStatus.REJECTED
        row |= {"status": status, "approved": a["approved"], "deadline": a["challengeEndsAt"]}
    elif fact.name == "WorkerPaid":
        row |= {"status": JobStatus.PAID, "paid": str(a["amount"])}
    elif fact.name == "AgentRefunded":
        row |= {"status": JobStatus.REFUNDED, "refunded": str(a["amount"]), "refund_reason": a["reason"]}
    elif fact.name == "JobDisputed":
        row |= {"status": JobStatus.DISPUTED, "dispute_id": str(a["disputeId"])}
    elif fact.name == "DisputeSettled":
        row["ruling"] = a["ruling"]
    return row


def _operator(key: str, row: Row | None, fact: Fact) -> Row | None:
    if fact.name != SNAPSHOT:
        return row  # the snapshot read after the event's block has the exact values
    a = fact.args
    return {"address": key, "mask_index": a["index"], "active": a["active"], "stake": str(a["stake"]),
            "unstaking": str(a["unstaking"]), "unstake_at": a["unstakeAt"], "block": fact.block}  # fmt: skip


def _arbitrator(key: str, row: Row | None, fact: Fact) -> Row | None:
    if fact.name != SNAPSHOT:
        return row
    a = fact.args
    return {"address": key, "stake": str(a["staked"]), "locked": str(a["locked"]),
            "unstaking": str(a["unstaking"]), "unlock_at": a["unlockAt"], "rewards": str(a["rewards"]),
            "queued_in": str(a["stakeIn"]), "queued_out": str(a["unstakeOut"]),
            "block": fact.block}  # fmt: skip


def _dispute(key: str, row: Row | None, fact: Fact) -> Row | None:
    a = fact.args
    row = dict(row) if row is not None else {
        "dispute_id": key, "round": 0, "phase": RoundPhase.DRAWING, "commit_end": 0, "reveal_end": 0,
        "appeal_end": 0, "ruling": None, "tied": None, "seats": [],
    }  # fmt: skip
    row["block"] = fact.block
    seats: list[Row] = [dict(s) for s in row["seats"]]
    if fact.name == "AppealDecision":
        row |= {"round": row["round"] + 1, "phase": RoundPhase.DRAWING}
    elif fact.name == "Drawn":
        seat = sum(1 for s in seats if s["round"] == a["round"])
        seats.append({"dispute_id": key, "round": a["round"], "seat": seat, "arbitrator": a["arbitrator"],
                      "committed": False, "choice": None})  # fmt: skip
        row |= {"round": a["round"], "phase": RoundPhase.COMMIT, "commit_end": a["commitEnd"],
                "reveal_end": a["revealEnd"]}  # fmt: skip
    elif fact.name in ("VoteCommitted", "VoteRevealed"):
        for s in seats:  # one event per arbitrator and round covers all of its seats
            if s["round"] == a["round"] and s["arbitrator"] == a["arbitrator"]:
                s["committed"] = True
                if fact.name == "VoteRevealed":
                    s["choice"] = a["choice"]
    elif fact.name == "Tallied":
        row |= {"phase": RoundPhase.APPEALABLE, "ruling": a["ruling"], "tied": a["tied"],
                "appeal_end": a["appealEnd"]}  # fmt: skip
    elif fact.name == "RulingDelivered":
        row["phase"] = RoundPhase.FINAL
    row["seats"] = seats
    return row


APPLY: dict[Kind, Callable[[str, Row | None, Fact], Row | None]] = {
    Kind.WORKER: _worker,
    Kind.JOB: _job,
    Kind.OPERATOR: _operator,
    Kind.ARBITRATOR: _arbitrator,
    Kind.DISPUTE: _dispute,
}
