"""What my vote on one seat needs now, from its state and the chain's clock alone (pure: no chain, no DB)."""

from dataclasses import dataclass
from enum import Enum


class Step(Enum):
    """The next thing to do for a seat."""

    WAIT = "wait"  # a transaction is in flight, or the next phase has not opened
    COMMIT = "commit"
    REVEAL = "reveal"
    NO_VOTE = "no_vote"  # drawn, commit phase open, and no vote given yet
    MISSED_COMMIT = "missed_commit"  # the commit phase ended without my commitment
    MISSED_REVEAL = "missed_reveal"  # the reveal phase ended without my reveal
    DONE = "done"


@dataclass(frozen=True)
class SeatState:
    """One seat's deadlines and how far my vote got (states from the votes table; None: no vote)."""

    commit_end: int  # inclusive, unix seconds
    reveal_end: int  # inclusive
    commit_state: str | None  # waiting, sent, done, failed
    reveal_state: str | None
    committed_on_chain: bool = False  # my VoteCommitted log was seen
    revealed_on_chain: bool = False


def next_step(seat: SeatState, now: int) -> Step:
    """The step due at chain time `now` (the latest block's timestamp; the next block is later)."""
    if seat.revealed_on_chain or seat.reveal_state == "done":
        return Step.DONE
    committed = seat.committed_on_chain or seat.commit_state == "done"
    if not committed:
        if seat.commit_state == "sent":
            return Step.WAIT
        if now >= seat.commit_end:  # the next block would be past it
            return Step.MISSED_COMMIT
        return Step.NO_VOTE if seat.commit_state is None else Step.COMMIT
    if seat.reveal_state == "sent":
        return Step.WAIT
    if now > seat.reveal_end - 1:
        return Step.MISSED_REVEAL
    if seat.reveal_state is None or now < seat.commit_end:  # no salt here, or the phase is not open
        return Step.WAIT
    return Step.REVEAL
