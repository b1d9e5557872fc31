"""The current operator set as the chain has it: who may sign, the quorum, the set nonce, where each
node is reached; and who leads.

The oracle keeps no list of its operators, so the set is rebuilt from its OperatorAdded and
OperatorRemoved logs whenever the set nonce moves, and each member's stake and published endpoint
are re-read every few seconds: only operators in the set with at least minStake staked count (and
may lead, and are sent our signatures).
"""

import functools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from eth_utils import keccak

from .relay_contracts import RelayReads

STAKE_TTL = 2.0  # seconds a read of the stakes is trusted


@dataclass(frozen=True)
class CurrentSet:
    """Operators who can attest now, the quorum and the nonce their signatures must name."""

    eligible: frozenset[str]
    quorum: int
    set_nonce: int
    endpoints: Mapping[str, str] = field(default_factory=dict)  # eligible operator -> its published URL


def succession(job_id: str, operators: Sequence[str]) -> list[str]:
    """The order in which operators lead `job_id`: by keccak(jobId ‖ operator), lowest first."""
    return list(_succession(job_id, tuple(operators)))


@functools.lru_cache(maxsize=16_384)  # asked for every signed item at every pass: the hashes once per job
def _succession(job_id: str, operators: tuple[str, ...]) -> tuple[str, ...]:
    job = bytes.fromhex(job_id[2:])
    return tuple(sorted(operators, key=lambda op: keccak(job + bytes.fromhex(op[2:]))))


def turn_at(job_id: str, operators: Sequence[str], me: str, since: float, step: float) -> float | None:
    """When `me` may send for `job_id`: `since`, plus `step` per operator before it; None outside the set."""
    order = succession(job_id, operators)
    return since + order.index(me) * step if me in order else None


class OperatorSet:
    """The current set, cached: rebuilt when the set nonce moves, stakes and endpoints re-read every
    STAKE_TTL seconds."""

    def __init__(
        self, reads: RelayReads, first_block: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._reads, self._first_block, self._clock = reads, first_block, clock
        self._lock = threading.Lock()  # read by the HTTP threads and the node's loop
        self._members: list[str] = []
        self._members_nonce = -1
        self._current: CurrentSet | None = None
        self._read_at = -1e9

    def current(self) -> CurrentSet:
        """The set now (at most STAKE_TTL seconds old)."""
        with self._lock:
            if self._current is not None and self._clock() - self._read_at < STAKE_TTL:
                return self._current
            view = self._reads.oracle_view()
            if view.set_nonce != self._members_nonce:
                self._members = self._replay(self._reads.chain.head())
                self._members_nonce = view.set_nonce
            standing = dict(zip(self._members, self._reads.members(self._members), strict=True))
            eligible = {op: m for op, m in standing.items() if m.active and m.stake >= view.min_stake}
            endpoints = {op: m.endpoint for op, m in eligible.items() if m.endpoint}
            self._current = CurrentSet(frozenset(eligible), view.quorum, view.set_nonce, endpoints)
            self._read_at = self._clock()
            return self._current

    def _replay(self, head: int) -> list[str]:
        members: dict[str, None] = {}
        for operator, added in self._reads.operator_history(self._first_block, head):
            if added:
                members[operator] = None
            else:
                members.pop(operator, None)
        return list(members)
