"""The seat's next step follows from its state and the chain's clock alone."""

import pytest

from arbitration.duties import SeatState, Step, next_step

COMMIT_END, REVEAL_END = 1_000, 2_000


def seat(commit=None, reveal=None, committed=False, revealed=False):
    return SeatState(COMMIT_END, REVEAL_END, commit, reveal, committed, revealed)


@pytest.mark.parametrize(
    ("state", "now", "step"),
    [
        (seat(), 500, Step.NO_VOTE),
        (seat("waiting", "waiting"), 500, Step.COMMIT),
        (seat("sent", "waiting"), 500, Step.WAIT),
        (seat("waiting", "waiting"), COMMIT_END, Step.MISSED_COMMIT),
        (seat(), COMMIT_END + 5, Step.MISSED_COMMIT),
        (seat("done", "waiting"), 500, Step.WAIT),
        (seat("done", "waiting"), COMMIT_END, Step.REVEAL),
        (seat("waiting", "waiting", committed=True), COMMIT_END + 1, Step.REVEAL),
        (seat("done", "sent"), COMMIT_END + 1, Step.WAIT),
        (seat("done", "waiting"), REVEAL_END, Step.MISSED_REVEAL),
        (seat("done", "done"), REVEAL_END + 9, Step.DONE),
        (seat("done", "sent", revealed=True), COMMIT_END + 1, Step.DONE),
        (seat(None, None, committed=True), COMMIT_END + 1, Step.WAIT),  # committed elsewhere, no salt here
    ],
)
def test_next_step(state, now, step):
    assert next_step(state, now) == step
