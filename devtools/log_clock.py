"""When logs first appeared: one poller reads new blocks every 10 ms and notes, per event and key, the
monotonic time it first saw each log (benches measure latencies between two such times)."""

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from web3 import Web3

POLL = 0.01  # seconds between two looks at the head


class LogClock:
    """Polls `events` (name -> web3 contract event) from the next block on; `seen[name][key(args)]` is
    the time.monotonic() of the poll that first returned that log."""

    def __init__(self, w3: Web3, events: Mapping[str, Any], key: Callable[[str, Any], Any]) -> None:
        self._w3, self._events, self._key = w3, dict(events), key
        self.seen: dict[str, dict[Any, float]] = {name: {} for name in self._events}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._next_block = w3.eth.block_number + 1

    def __enter__(self) -> "LogClock":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            head = self._w3.eth.block_number
            if head >= self._next_block:
                now = time.monotonic()
                for name, event in self._events.items():
                    for log in event.get_logs(from_block=self._next_block, to_block=head):
                        self.seen[name].setdefault(self._key(name, log["args"]), now)
                self._next_block = head + 1
            self._stop.wait(POLL)
