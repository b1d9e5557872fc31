"""Token buckets by key (a worker, a job): what the intake allows one sender before it says 429."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 100_000  # buckets kept; the fullest (least recently used) are forgotten first


@dataclass(frozen=True)
class Rate:
    """`burst` requests at once, refilled at `per_second`."""

    per_second: float
    burst: float


class Buckets:
    """One token bucket per key, shared by the server's threads."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._clock = rate, clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> float:
        """0 when `key` may go on (a token is used), else the seconds until it may."""
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self._rate.burst, now))
            tokens = min(self._rate.burst, tokens + (now - then) * self._rate.per_second)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / max(self._rate.per_second, 1e-9)
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)  # re-inserted: most recent last
            if len(self._buckets) > MAX_KEYS:
                del self._buckets[next(iter(self._buckets))]
            return wait
