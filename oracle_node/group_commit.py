"""Group commit: callers that arrive while a batch is being read and written join the next batch, so
that N workers handing in evidence at once cost one chain read and one flushed commit, not N of each."""

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Waiter(Generic[T]):
    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.result: object = None  # the item's result, or the exception to raise in its caller


class GroupCommit(Generic[T, R]):
    """Runs `work` over every item waiting at once; each caller gets its own item's result or exception.

    `work` returns one result per item, in order: a value, or an Exception that caller raises."""

    def __init__(self, work: Callable[[list[T]], list[R | Exception]]) -> None:
        self._work = work
        self._changed = threading.Condition()
        self._waiting: list[_Waiter[T]] = []
        self._busy = False  # a batch is being worked on; new callers wait for the next one

    def run(self, item: T) -> R:
        """`work`'s result for `item`, computed in a batch with whatever else is waiting."""
        mine = _Waiter(item)
        with self._changed:
            self._waiting.append(mine)
            while self._busy and not mine.done:
                self._changed.wait()
            batch: list[_Waiter[T]] = []
            if not mine.done:  # nobody is working: this caller works for everyone waiting
                batch, self._waiting, self._busy = self._waiting, [], True
        if batch:
            results: list[object] = [RuntimeError("the batch's work failed")] * len(batch)
            try:
                results = list(self._work([waiter.item for waiter in batch]))
            except Exception as error:  # the batch failed as a whole (the RPC, the database): all see it
                results = [error] * len(batch)
            finally:
                with self._changed:
                    for waiter, result in zip(batch, results, strict=True):
                        waiter.result, waiter.done = result, True
                    self._busy = False
                    self._changed.notify_all()
        if isinstance(mine.result, Exception):
            raise mine.result
        return mine.result  # type: ignore[return-value]  # an R whenever it is not an Exception
