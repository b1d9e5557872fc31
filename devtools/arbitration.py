"""Carries a dispute through one round on a local chain: draw, commit, reveal, tally."""

import os
from collections.abc import Callable, Mapping
from typing import Any

from protocol_core.arbitration import commitment
from protocol_core.enums import RulingOption


def run_round(
    pool: Any,
    chain: Any,
    dispute_id: int,
    signers: Mapping[str, Any],
    choose: Callable[[str], int | None],
    gas: list[int] | None = None,
) -> list[str]:
    """Draws, commits, reveals and tallies the current round on a local chain; returns the panel.

    `choose(address)` gives each drawn arbitrator's vote, or None for one who never reveals.
    Time is moved past each phase; the gas of every transaction is appended to `gas`.
    """
    spent = gas if gas is not None else []
    chain.mine(2)  # the randomness commits to the next block's hash
    anyone = next(iter(signers.values()))
    spent.append(pool.draw(dispute_id, sender=anyone).gas_used)
    current = _current_round(pool, dispute_id)
    panel = [str(a) for a in pool.roundOf(dispute_id, current).panel]
    salts = {address: os.urandom(32) for address in panel}
    for address in panel:
        choice = choose(address)
        vote = commitment(
            dispute_id, current, address, RulingOption.SPLIT if choice is None else choice, salts[address]
        )
        spent.append(pool.commit(dispute_id, vote, sender=signers[address]).gas_used)
    view = pool.roundOf(dispute_id, current)
    chain.mine(timestamp=view.commitEnd + 1)
    for address in panel:
        choice = choose(address)
        if choice is not None:
            spent.append(pool.reveal(dispute_id, choice, salts[address], sender=signers[address]).gas_used)
    chain.mine(timestamp=view.revealEnd + 1)
    spent.append(pool.tally(dispute_id, sender=anyone).gas_used)
    return panel


def _current_round(pool: Any, dispute_id: int) -> int:
    """Index of the dispute's current round: the last one whose panel size is set."""
    index = 0
    while pool.roundOf(dispute_id, index + 1).panelSize != 0:
        index += 1
    return index
