"""Whether the operator's key can attest now: in the oracle's operator set, with at least minStake staked."""

import logging
import time
from collections.abc import Callable

from .contracts import OracleContracts
from .metrics import NodeMetrics

log = logging.getLogger(__name__)
CHECK_INTERVAL = 2.0  # seconds between two reads of the operator's standing; a top-up shows this fast


class StandingWatch:
    """Reads the operator's standing every CHECK_INTERVAL seconds (or at once when told to doubt it)."""

    def __init__(
        self,
        contracts: OracleContracts,
        operator: str,
        metrics: NodeMetrics,
        interval: float = CHECK_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._contracts, self._operator, self._metrics = contracts, operator, metrics
        self._interval, self._clock = interval, clock
        self._checked_at: float | None = None
        self._problem: str | None = None

    def doubt(self) -> None:
        """Reads the standing again on the next check (a dry run said NotActiveOperator)."""
        self._checked_at = None

    def check(self) -> str | None:
        """Why the operator cannot attest now, or None; reads the chain when the last read is old."""
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < self._interval:
            return self._problem
        standing = self._contracts.standing(self._operator)
        self._checked_at = now
        self._metrics.operator_stake.set(standing.stake)
        self._metrics.operator_in_set.set(int(standing.in_set))
        problem = standing.problem()
        self._metrics.operator_can_attest.set(int(problem is None))
        if problem != self._problem:
            if problem is not None:
                log.error("cannot attest: %s", problem, extra={"operator": self._operator})
            else:
                log.info("the operator can attest", extra={"operator": self._operator})
        self._problem = problem
        return problem
