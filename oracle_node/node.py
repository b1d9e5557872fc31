"""The node's pass: ingest, reconcile with the contracts, verify, attest, follow transactions.

The loop around it (retries, health, signals) is the runtime's Daemon; this is its Service.
"""

import logging
import threading
from concurrent.futures import FIRST_COMPLETED, wait

from runtime.chain import Chain
from runtime.cursor import LogCursor
from runtime.daemon import Progress
from runtime.network import Confirmations
from runtime.sender import Sender
from runtime.tracking import Tracker

from .events import EscrowEvent
from .metrics import NodeMetrics
from .pipeline import Pipeline
from .relay import Relay
from .standing import StandingWatch

log = logging.getLogger(__name__)


class OracleNode:
    """Turns submitted evidence into exactly one on-chain attestation per (job, evidence hash)."""

    def __init__(
        self,
        chain: Chain,
        cursor: LogCursor[EscrowEvent],
        sender: Sender,
        tracker: Tracker,
        pipeline: Pipeline,
        metrics: NodeMetrics,
        confirmations: Confirmations,  # depth before acting on evidence, or the `finalized` tag
        standing: StandingWatch,
        relay: Relay | None = None,  # the relayed flow, when the node takes evidence by HTTP
    ) -> None:
        self._chain, self._cursor, self._sender, self._tracker = chain, cursor, sender, tracker
        self._pipeline, self._metrics, self._confirmations = pipeline, metrics, confirmations
        self._standing, self._relay = standing, relay

    def start(self) -> None:
        """Checks that the database is this deployment's and resumes where the last run stopped."""
        chain_id = self._chain.chain_id()
        self._cursor.bind(chain_id, self._sender.address)
        self._pipeline.start(chain_id)  # verifications of a previous run died with it
        self._sender.start(chain_id)
        if self._relay is not None:
            self._relay.start(chain_id)
        log.info("node started", extra={"operator": self._sender.address, "chain_id": chain_id})

    def run_once(self) -> Progress:
        """One pass; busy when anything happened (the loop then goes again without waiting)."""
        # A backend behind the cursor answers an older head: the node never goes back on what it saw.
        head = max(self._chain.head(), self._cursor.position())
        self._pipeline.new_pass()  # block hashes are cached for one pass only
        new = self._cursor.poll(head)
        seen = self._cursor.anchor()  # reads are pinned to it (EIP-1898)
        cannot_attest = self._standing.check()
        # Evidence waits while the key cannot attest; it is verified once a top-up lands.
        # The relay goes first: it holds back new chain evidence for the quorum's signatures.
        safe = -1 if cannot_attest else self._safe_head(head)
        relayed = 0 if cannot_attest or self._relay is None else self._relay.run_once(head, safe)
        started = 0 if cannot_attest else self._pipeline.dispatch(safe, seen)
        decided = self._pipeline.collect(head, seen, attesting=not cannot_attest)
        mined = self._tracker.tick(head, seen)
        for done in mined:
            if done.succeeded:
                self._metrics.attestation_latency_seconds.observe(done.seconds_since_seen)
        ready, detail = self._metrics.position(head, self._cursor.position())
        sender_problem = self._tracker.problem()
        if sender_problem:
            ready, detail = False, f"sender stuck: {sender_problem}"
        if cannot_attest:
            ready, detail = False, f"cannot attest: {cannot_attest}"
        return Progress(busy=bool(new or relayed or started or decided or mined), ready=ready, detail=detail)

    def idle(self, stop: threading.Event, seconds: float) -> None:
        """Waits `seconds`, or less when a verification finishes first."""
        futures = self._pipeline.futures() + (self._relay.futures() if self._relay is not None else [])
        if futures:
            wait(futures, timeout=seconds, return_when=FIRST_COMPLETED)
        else:
            stop.wait(seconds)

    def close(self) -> None:
        """Stops the verifiers and the peers' senders."""
        if self._relay is not None:
            self._relay.close()
        self._pipeline.close()

    def _safe_head(self, head: int) -> int:
        if self._confirmations == "finalized":
            block = self._chain.block("finalized")
            return block.number if block is not None else -1
        return head - self._confirmations
