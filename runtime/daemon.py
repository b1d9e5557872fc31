"""A daemon's lifecycle: signals, the health server, the loop of passes with its retries, graceful shutdown.

The CLI builds settings, the daemon's wiring builds a Service and hands it to a Daemon, and the
Daemon owns the rest (the uvicorn split of Config and Server).
"""

import logging
import signal
import threading
from dataclasses import dataclass
from typing import Protocol

from .errors import ChainUnavailable, WrongDeployment
from .health import HealthServer

log = logging.getLogger(__name__)
MAX_BACKOFF = 5.0  # seconds; the longest wait between two failed passes


@dataclass(frozen=True)
class Progress:
    """What one pass did, and whether the daemon can serve."""

    busy: bool  # something happened: the next pass starts without waiting
    ready: bool  # for /readyz: the RPC answers and the daemon is caught up
    detail: str  # why not ready, or how far behind; shown by /readyz


class Service(Protocol):
    """The daemon's own work, in passes; every pass is redone from the database after a failure."""

    def start(self) -> None:
        """Checks the world and resumes from the database; called again until it succeeds."""
        ...

    def run_once(self) -> Progress:
        """One pass."""
        ...

    def idle(self, stop: threading.Event, seconds: float) -> None:
        """Waits up to `seconds` after a pass that found nothing to do (less when work arrives)."""
        ...

    def close(self) -> None:
        """Releases what the service holds (threads, connections)."""
        ...


class Daemon:
    """Runs a service until told to stop; an unreachable RPC or a failed pass is waited out, never fatal."""

    def __init__(
        self,
        service: Service,
        health: HealthServer,
        poll_interval: float,  # idle wait between passes, and the first wait after a failure
        fatal: tuple[type[Exception], ...] = (WrongDeployment,),  # errors that end the loop
    ) -> None:
        self.service, self.health = service, health
        self._poll_interval, self._fatal = poll_interval, fatal

    def serve(self) -> None:
        """Serves /healthz, /readyz and /metrics and runs the loop until SIGTERM or SIGINT."""
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.health.start()
        log.info("serving health and metrics", extra={"port": self.health.port})
        try:
            self.run(stop)
        finally:
            self.health.stop()
        log.info("stopped")

    def run(self, stop: threading.Event) -> None:
        """Runs passes until `stop` is set, then closes the service."""
        backoff = self._poll_interval
        started = False
        while not stop.is_set():
            try:
                if not started:
                    self.service.start()
                    started = True
                progress = self.service.run_once()
                self.health.set_ready(progress.ready, progress.detail)
                backoff = self._poll_interval
            except ChainUnavailable as error:
                self.health.set_ready(False, str(error))
                log.warning("chain unavailable, retrying in %.1fs: %s", backoff, error)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            except self._fatal:
                raise
            except Exception:  # a bug or a surprise from the RPC: the pass is redone from the database
                self.health.set_ready(False, "last pass failed; see the log")
                log.exception("pass failed, retrying in %.1fs", backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            finally:
                self.health.beat()
            if not progress.busy:
                self.service.idle(stop, self._poll_interval)
        self.service.close()
