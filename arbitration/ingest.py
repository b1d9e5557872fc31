"""The pool's logs into the arbitrator's tables, in the cursor's transaction (a runtime LogHandler)."""

import logging

from sqlalchemy import Connection, delete, update

from runtime.chain import Log
from runtime.db import insert_ignore

from .events import PoolEvent, decode_event
from .tables import deliveries, disputes, queued, seats, votes

log = logging.getLogger(__name__)


class PoolLogs:
    """Records disputes, my seats and my votes seen on chain, and what the keeper may have to do."""

    def __init__(self, me: str) -> None:
        self.me = me

    def decode(self, log: Log) -> PoolEvent:
        """The followed event in `log`."""
        return decode_event(log)

    def ingest(self, db: Connection, events: list[PoolEvent]) -> int:
        """Records `events`; returns how many are new seats of mine."""
        new = 0
        for event in events:
            args, dispute_id = event.args, event.dispute_id
            mine = args.get("arbitrator") == self.me
            if event.name == "DisputeCreation":
                insert_ignore(
                    db,
                    disputes,
                    dispute_id=dispute_id,
                    block_number=event.block_number,
                    final=False,
                    deferred=False,
                )
            elif event.name == "Drawn" and mine:
                insert_ignore(
                    db,
                    seats,
                    dispute_id=dispute_id,
                    round=int(args["round"]),
                    commit_end=int(args["commitEnd"]),
                    reveal_end=int(args["revealEnd"]),
                    block_number=event.block_number,
                    notified=False,
                    committed_seen=False,
                    revealed_seen=False,
                    closed=False,
                )
                new += 1
            elif event.name in ("VoteCommitted", "VoteRevealed") and mine:
                seen = "committed" if event.name == "VoteCommitted" else "revealed"
                block = {f"{seen}_seen": True, f"{seen}_block": event.block_number}
                db.execute(_seat(dispute_id, int(args["round"])).values(block))
                step = "commit" if event.name == "VoteCommitted" else "reveal"
                db.execute(
                    update(votes)
                    .where(votes.c.dispute_id == dispute_id)
                    .where(votes.c.round == int(args["round"]))
                    .where(votes.c[f"{step}_state"].in_(["waiting", "sent"]))
                    .values({f"{step}_state": "done"})
                )
            elif event.name == "Ruling":
                db.execute(update(disputes).where(disputes.c.dispute_id == dispute_id).values(final=True))
                insert_ignore(
                    db,
                    deliveries,
                    dispute_id=dispute_id,
                    arbitrable=args["arbitrable"],
                    ruling=int(args["ruling"]),
                    block_number=event.block_number,
                    failed=False,
                )
            elif event.name in ("RulingDelivered", "RulingDeliveryFailed"):
                failed = {"failed": event.name == "RulingDeliveryFailed", "outcome_block": event.block_number}
                db.execute(update(deliveries).where(deliveries.c.dispute_id == dispute_id).values(failed))
            elif event.name == "PaymentDeferred":
                db.execute(update(disputes).where(disputes.c.dispute_id == dispute_id).values(deferred=True))
            elif event.name in ("StakeQueued", "UnstakeQueued"):
                insert_ignore(db, queued, arbitrator=args["arbitrator"], block_number=event.block_number)
        return new

    def orphaned(self, db: Connection, after: int) -> None:
        """Forgets what blocks above `after` said, each by the block of the log that said it: my vote
        logs by their own blocks (a seat drawn earlier keeps its seat); the tracker re-sends what its
        blocks took along, and the pool's answer decides."""
        db.execute(delete(disputes).where(disputes.c.block_number > after))
        db.execute(delete(queued).where(queued.c.block_number > after))
        db.execute(delete(deliveries).where(deliveries.c.block_number > after))
        # an outcome that left the chain is unknown again: the keeper's dry run of deliverRuling decides
        unknown = {"failed": True, "outcome_block": None}
        db.execute(update(deliveries).where(deliveries.c.outcome_block > after).values(unknown))
        for seen in ("committed", "revealed"):
            db.execute(
                update(seats)
                .where(seats.c[f"{seen}_block"] > after)
                .values({f"{seen}_seen": False, f"{seen}_block": None})
            )


def _seat(dispute_id: int, round_index: int):  # type: ignore[no-untyped-def]
    return update(seats).where(seats.c.dispute_id == dispute_id).where(seats.c.round == round_index)
