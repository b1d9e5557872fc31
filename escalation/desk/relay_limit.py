"""How many relayed profile calls (registrations, availability changes) the desk pays for: at most a
number per worker and a number in total in a sliding window, counted in the desk's database so a
restart forgets none. A refusal says when the next one will be taken.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, select

from runtime.db import transaction

from .errors import DeskError
from .tables import relays


@dataclass(frozen=True)
class RelayLimits:
    """The company's limits on the relayed calls it pays for (desk settings `relay_*`)."""

    per_worker: int = 10  # relayed calls one worker may have in a window
    total: int = 500  # relayed calls of all workers together in a window
    window_s: float = 3_600.0  # the sliding window, seconds


class RateLimited(DeskError):
    """Too many relayed calls in the window; `retry_after` is in how many seconds one will be taken."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RelayGate:
    """Checks a relayed call against the limits before it is sent, and counts it once sent."""

    def __init__(self, engine: Engine, limits: RelayLimits, clock: Callable[[], float] = time.time) -> None:
        self.engine, self.limits, self.clock = engine, limits, clock

    def check(self, worker: str) -> None:
        """RateLimited when `worker`, or everyone together, has used the window's calls."""
        now, limits = self.clock(), self.limits
        since = now - limits.window_s
        recent = select(func.count(), func.min(relays.c.at)).where(relays.c.at > since)
        with self.engine.connect() as db:
            mine, my_oldest = db.execute(recent.where(relays.c.worker == worker.lower())).one()
            everyone, oldest = db.execute(recent).one()
        if mine >= limits.per_worker:
            wait = _wait(my_oldest, limits.window_s, now)
            raise RateLimited(
                f"{worker} has had {mine} relayed calls in the last {limits.window_s:.0f} s, the most the "
                f"desk pays for ({limits.per_worker}): try again in {wait} s, or send it from your wallet",
                wait,
            )
        if everyone >= limits.total:
            wait = _wait(oldest, limits.window_s, now)
            raise RateLimited(
                f"the desk has relayed {everyone} calls in the last {limits.window_s:.0f} s, its limit "
                f"({limits.total}): try again in {wait} s, or send it from your own wallet",
                wait,
            )

    def record(self, worker: str, action: str) -> None:
        """Counts one relayed call of `worker`, and forgets those out of the window."""
        now = self.clock()
        with transaction(self.engine) as db:
            db.execute(delete(relays).where(relays.c.at <= now - self.limits.window_s))
            db.execute(relays.insert().values(worker=worker.lower(), action=action, at=now))


def _wait(oldest: float | None, window_s: float, now: float) -> int:
    """Seconds until the oldest call in the window leaves it (at least 1)."""
    return max(1, math.ceil((oldest or now) + window_s - now))
