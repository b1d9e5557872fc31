"""Where verifications run: threads in the node's process, or taskiq workers (oracle_node.tasks)."""

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from .verdicts import Verdict, VerificationRequest
from .verify import Verifier


class VerificationBackend(Protocol):
    """Runs verifications concurrently; the node collects the futures."""

    def submit(self, request: VerificationRequest) -> "Future[Verdict]":
        """Starts verifying `request`."""
        ...

    def close(self) -> None:
        """Stops taking work."""
        ...


class LocalVerification:
    """Verifies in a pool of threads inside the node (fetching is I/O-bound)."""

    def __init__(self, verifier: Verifier, concurrency: int) -> None:
        self._verifier = verifier
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="verify")

    def submit(self, request: VerificationRequest) -> "Future[Verdict]":
        """Starts verifying `request` on a pool thread."""
        return self._pool.submit(self._verifier.verify, request)

    def close(self) -> None:
        """Cancels the fetches in flight (their evidence is verified again at the next start) and stops."""
        self._verifier.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
