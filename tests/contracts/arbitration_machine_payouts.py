"""What the arbitration machine expects a ruling to pay: per arbitrator, per round, and the reserve
(docs/protocol.md, "Arbitration"), from the votes the machine cast and the panels the chain drew."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.contracts.arbitration_machine_helpers import LOCK, DisputeModel


@dataclass
class Payout:
    """One dispute's payment, in the order the pool emits it."""

    rewarded: list[tuple[str, int]] = field(default_factory=list)
    penalized: list[str] = field(default_factory=list)
    reserve: list[int] = field(default_factory=list)  # RewardsFunded by the pool, per round nobody earned

    def by_arbitrator(self) -> tuple[Counter, Counter]:
        rewards: Counter = Counter()
        for address, amount in self.rewarded:
            rewards[address] += amount
        return rewards, Counter({a: LOCK * n for a, n in Counter(self.penalized).items()})


def expected_payout(dispute: DisputeModel, rounds: list[Any], ruling: int, tied: bool) -> Payout:
    """`rounds` as paid: (fee, panel) of every round up to the final one, lapsed rounds merged."""
    payout = Payout()
    for index, (fee, panel) in enumerate(rounds):
        coherent = [
            a
            for a in panel
            if (vote := dispute.votes.get((index, a))) is not None
            and vote.revealed
            and (vote.choice == ruling or tied)
        ]
        payout.penalized += [a for a in panel if a not in coherent]
        pot = fee + LOCK * (len(panel) - len(coherent))
        if not coherent:
            payout.reserve.append(pot)
            continue
        share, dust = divmod(pot, len(coherent))
        payout.rewarded += [(a, share + (dust if i == 0 else 0)) for i, a in enumerate(coherent)]
    return payout


def rounds_as_paid(views: list[Any], lapsed_appeal: bool) -> list[tuple[int, list[str]]]:
    """(fee, panel) per round; a lapsed appeal round's fee joins the round before it."""
    rounds = [(v.fee, [str(a) for a in v.panel]) for v in views]
    if lapsed_appeal:
        (fee, _), (before, panel) = rounds.pop(), rounds.pop()
        rounds.append((before + fee, panel))
    return rounds
