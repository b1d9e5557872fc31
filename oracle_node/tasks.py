"""Verification on taskiq workers over Redis: the worker's task and the node's client of it.

Workers run `taskiq worker oracle_node.tasks:broker`; taskiq calls that factory when the worker
starts, and it reads the ORACLE_NODE_* variables (ORACLE_NODE_BROKER_URL, ORACLE_NODE_FILE_ROOT, ...)
then, never at import.
"""

import asyncio
import functools
import os
import threading
from concurrent.futures import Future
from typing import Any
from urllib.parse import urlsplit

from redis.exceptions import RedisError
from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask
from taskiq.exceptions import SendTaskError, TaskiqResultTimeoutError
from taskiq_redis import ListQueueBroker, RedisAsyncResultBackend

from .errors import TransientVerificationError
from .settings import NodeSettings
from .verdicts import Reason, Verdict, VerificationRequest
from .verify import Verifier

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"  # workers started without ORACLE_NODE_BROKER_URL
QUEUE = "oracle_node:verify"
TASK = "oracle_node.verify_evidence"
RESULT_TTL = 3600  # seconds a result waits in Redis for a node that stopped waiting for it
RESULT_POLL = 0.05  # seconds between two checks for a result


def make_broker(url: str) -> AsyncBroker:
    """A broker on `url` whose workers share one queue, each message going to one worker."""
    results: RedisAsyncResultBackend[Any] = RedisAsyncResultBackend(
        url, keep_results=False, result_ex_time=RESULT_TTL, prefix_str="oracle_node:result"
    )
    made = ListQueueBroker(url, queue_name=QUEUE).with_result_backend(results)
    made.register_task(verify_evidence, task_name=TASK)
    return made


def broker() -> AsyncBroker:
    """The workers' broker (`taskiq worker oracle_node.tasks:broker`), on ORACLE_NODE_BROKER_URL."""
    return make_broker(NodeSettings().broker_url or DEFAULT_BROKER_URL)


def request_to_dict(request: VerificationRequest) -> dict[str, Any]:
    """`request` as JSON-ready values, bytes as 0x-hex."""
    return {
        "chain_id": request.chain_id,
        "escrow": request.escrow,
        "job_id": "0x" + bytes(request.job_id).hex(),
        "evidence_hash": "0x" + bytes(request.evidence_hash).hex(),
        "uri": request.uri,
        "confirmer": request.confirmer,
        "raw": None if request.raw is None else "0x" + request.raw.hex(),  # a bundle handed in by HTTP
    }


def request_from_dict(data: dict[str, Any]) -> VerificationRequest:
    """The request `request_to_dict` encoded."""
    return VerificationRequest(
        chain_id=int(data["chain_id"]),
        escrow=str(data["escrow"]),
        job_id=bytes.fromhex(str(data["job_id"]).removeprefix("0x")),
        evidence_hash=bytes.fromhex(str(data["evidence_hash"]).removeprefix("0x")),
        uri=str(data["uri"]),
        confirmer=str(data["confirmer"]),
        raw=None if data.get("raw") is None else bytes.fromhex(str(data["raw"])[2:]),
    )


def verdict_from_dict(data: dict[str, Any]) -> Verdict:
    """The verdict in a task's result."""
    return Verdict(
        approve=bool(data["approve"]), reason=Reason(int(data["reason"])), detail=str(data["detail"])
    )


@functools.cache
def _verifier() -> Verifier:
    return Verifier.from_settings(NodeSettings())


def verify_evidence(request: dict[str, Any]) -> dict[str, Any]:
    """Verifies one request on this worker; the verdict as a dict, with the worker's pid."""
    verdict = _verifier().verify(request_from_dict(request))
    return {
        "approve": verdict.approve,
        "reason": int(verdict.reason),
        "detail": verdict.detail,
        "pid": os.getpid(),
    }


class TaskiqVerification:
    """The node's side: sends requests to the workers and resolves futures from a background event loop."""

    def __init__(self, broker_url: str, timeout: float = 120.0) -> None:
        self._broker, self._where, self._timeout = make_broker(broker_url), _public(broker_url), timeout
        self._task: AsyncTaskiqDecoratedTask[[dict[str, Any]], dict[str, Any]] = _registered(self._broker)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="taskiq-client", daemon=True)
        self._thread.start()
        self._closed = False
        asyncio.run_coroutine_threadsafe(self._broker.startup(), self._loop).result()

    def submit(self, request: VerificationRequest) -> "Future[Verdict]":
        """Sends `request` to a worker; the future fails with TransientVerificationError to retry later."""
        verdict: Future[Verdict] = Future()
        traced = self.submit_traced(request)
        traced.add_done_callback(lambda done: _chain(done, verdict))
        verdict.add_done_callback(lambda done: traced.cancel() if done.cancelled() else None)
        return verdict

    def submit_traced(self, request: VerificationRequest) -> "Future[tuple[Verdict, int]]":
        """Like submit, with the pid of the worker process that verified `request`."""
        if self._closed:
            raise RuntimeError("TaskiqVerification is closed")
        return asyncio.run_coroutine_threadsafe(self._verify(request), self._loop)

    def close(self) -> None:
        """Cancels what is still waiting for a worker, closes the broker and stops the event loop."""
        if self._closed:
            return
        self._closed = True
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _verify(self, request: VerificationRequest) -> tuple[Verdict, int]:
        try:
            task = await self._task.kiq(request_to_dict(request))
            result = await task.wait_result(check_interval=RESULT_POLL, timeout=self._timeout)
        except SendTaskError as exc:
            raise TransientVerificationError(
                f"taskiq broker {self._where} refused the task: {exc.__cause__}"
            ) from exc
        except RedisError as exc:
            raise TransientVerificationError(f"taskiq broker {self._where} unreachable: {exc}") from exc
        except TaskiqResultTimeoutError as exc:
            raise TransientVerificationError(
                f"no taskiq worker answered within {self._timeout:.0f}s: "
                f"run `taskiq worker oracle_node.tasks:broker` with ORACLE_NODE_BROKER_URL={self._where}"
            ) from exc
        if result.is_err:
            # taskiq rebuilds the worker's exception by module and class name, so a
            # TransientVerificationError raised there arrives here as one; anything else is a worker bug.
            error = result.error
            raise error if isinstance(error, Exception) else RuntimeError(f"worker failed: {error!r}")
        return verdict_from_dict(result.return_value), int(result.return_value["pid"])

    async def _shutdown(self) -> None:
        waiting = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        await self._broker.shutdown()


def _registered(on: AsyncBroker) -> "AsyncTaskiqDecoratedTask[[dict[str, Any]], dict[str, Any]]":
    task = on.find_task(TASK)
    if task is None:
        raise RuntimeError(f"{TASK} is not registered on the broker")
    return task


def _chain(done: "Future[tuple[Verdict, int]]", verdict: "Future[Verdict]") -> None:
    if done.cancelled():
        verdict.cancel()
    elif (error := done.exception()) is not None:
        verdict.set_exception(error)
    else:
        verdict.set_result(done.result()[0])


def _public(url: str) -> str:
    """`url` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()
