"""The intake's group commit: callers arriving while a batch is worked on share the next batch, each
gets its own item's result or error, and a batch that fails as a whole fails every caller in it."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from devtools.chain import wait_for
from oracle_node.group_commit import GroupCommit


class Refusal(Exception):
    pass


def test_callers_waiting_during_a_batch_share_the_next_one_and_get_their_own_results():
    batches: list[list[int]] = []
    first_started, release = threading.Event(), threading.Event()

    def work(items: list[int]) -> list[int | Exception]:
        batches.append(items)
        if len(batches) == 1:
            first_started.set()
            assert release.wait(10)
        return [Refusal(f"odd {i}") if i % 2 else i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(work)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(group.run, 0)
        assert first_started.wait(10)
        rest = {i: pool.submit(group.run, i) for i in range(1, 7)}
        wait_for(lambda: len(group._waiting) == 6, timeout=10, what="six callers queued behind the batch")
        release.set()
        assert first.result() == 0
        for i, future in rest.items():
            if i % 2:
                with pytest.raises(Refusal, match=f"odd {i}"):
                    future.result()
            else:
                assert future.result() == i * 10
    assert batches[0] == [0] and sorted(batches[1]) == [1, 2, 3, 4, 5, 6] and len(batches) == 2


def test_a_batch_that_fails_as_a_whole_fails_each_caller_and_the_next_batch_runs():
    calls = []

    def work(items: list[str]) -> list[str | Exception]:
        calls.append(items)
        if items == ["down"]:
            raise ConnectionError("the RPC does not answer")
        return [item.upper() for item in items]

    group: GroupCommit[str, str] = GroupCommit(work)
    with pytest.raises(ConnectionError, match="does not answer"):
        group.run("down")
    assert group.run("up") == "UP"
    assert calls == [["down"], ["up"]]
