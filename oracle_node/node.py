"""The node's loop: ingest, reconcile with the contracts, verify, attest, follow transactions."""

import logging
import threading
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass
from typing import Literal

from .chain import Chain
from .errors import ChainUnavailable, WrongDeployment
from .health import HealthServer
from .metrics import NodeMetrics
from .pipeline import Pipeline
from .sender import Sender
from .tracking import Tracker
from .watcher import Watcher

log = logging.getLogger(__name__)
READY_LAG = 3  # blocks behind the head that still count as caught up


@dataclass(frozen=True)
class Pacing:
    """How the loop waits and retries."""

    confirmations: int | Literal["finalized"]
    poll_interval: float  # idle wait between passes


class OracleNode:
    """Turns submitted evidence into exactly one on-chain attestation per (job, evidence hash)."""

    def __init__(
        self,
        chain: Chain,
        watcher: Watcher,
        sender: Sender,
        tracker: Tracker,
        pipeline: Pipeline,
        metrics: NodeMetrics,
        health: HealthServer,
        pacing: Pacing,
    ) -> None:
        self._chain, self._watcher, self._sender, self._tracker = chain, watcher, sender, tracker
        self._metrics, self._health, self._pacing = metrics, health, pacing
        self._pipeline = pipeline
        self._chain_id = 0

    def run(self, stop: threading.Event) -> None:
        """Runs passes until `stop` is set; an unreachable RPC is waited out, never fatal."""
        backoff = self._pacing.poll_interval
        started = False
        while not stop.is_set():
            try:
                if not started:
                    self._start()
                    started = True
                busy = self.run_once()
                backoff = self._pacing.poll_interval
            except ChainUnavailable as error:
                self._health.set_ready(False, str(error))
                log.warning("chain unavailable, retrying in %.1fs: %s", backoff, error)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except WrongDeployment:
                raise
            except Exception:  # a bug or a surprise from the RPC: the pass is redone from the database
                self._health.set_ready(False, "last pass failed; see the log")
                log.exception("pass failed, retrying in %.1fs", backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            finally:
                self._health.beat()
            if not busy:
                self._idle(stop)
        self._pipeline.close()

    def _start(self) -> None:
        self._chain_id = self._chain.chain_id()
        self._watcher.check_deployment(self._chain_id, self._sender.address)
        self._pipeline.start(self._chain_id)  # verifications of a previous run died with it
        self._sender.start()
        log.info("node started", extra={"operator": self._sender.address, "chain_id": self._chain_id})

    def run_once(self) -> bool:
        """One pass; returns whether anything happened (the loop then goes again without waiting)."""
        head = self._chain.head()
        self._pipeline.new_pass()  # block hashes are cached for one pass only
        new = self._watcher.poll(head, self._chain_id, self._sender.address)
        started = self._pipeline.dispatch(self._safe_head(head))
        decided = self._pipeline.collect(head)
        mined = self._tracker.tick(head)
        for done in mined:
            if done.succeeded:
                self._metrics.attestation_latency_seconds.observe(done.seconds_since_seen)
        cursor = self._watcher.cursor()
        self._metrics.head_block.set(head)
        self._metrics.cursor_block.set(cursor)
        self._metrics.lag_blocks.set(head - cursor)
        self._health.set_ready(head - cursor <= READY_LAG, f"{head - cursor} blocks behind the head")
        return bool(new or started or decided or mined)

    def _idle(self, stop: threading.Event) -> None:
        """Waits one poll interval, or less when a verification finishes first."""
        futures = self._pipeline.futures()
        if futures:
            wait(futures, timeout=self._pacing.poll_interval, return_when=FIRST_COMPLETED)
        else:
            stop.wait(self._pacing.poll_interval)

    def _safe_head(self, head: int) -> int:
        if self._pacing.confirmations == "finalized":
            block = self._chain.block("finalized")
            return block.number if block is not None else -1
        return head - self._pacing.confirmations
