"""Where our signatures go: the peers in the settings, or else the endpoints the other operators publish
on chain (`setEndpoint`), followed as they change; one outbox (a queue and a POSTing thread) per peer.

Configured peers override the chain. A published endpoint that is not an http(s) URL with a host is
skipped with one warning; an operator that leaves the set, drops below minStake or withdraws its
endpoint stops being sent to; one that appears gets the signatures still short of a quorum with the
next re-push.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx

from protocol_core.handoff import AttestationSignature, SignatureBatch
from runtime.errors import ChainUnavailable

from .operators import OperatorSet

log = logging.getLogger(__name__)
BATCH = 256  # signatures per POST to one peer


def usable(url: str) -> str | None:
    """`url` without a trailing slash when it is an http(s) URL with a host and nothing after the path."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return None
    return url.strip().rstrip("/")


class Outbox:
    """One peer's queue and the thread that POSTs it in batches."""

    def __init__(self, url: str, timeout: float, heard: Callable[[], None]) -> None:
        self.url, self._heard = url, heard
        self._queue: queue.Queue[AttestationSignature | None] = queue.Queue()
        self._client = httpx.Client(timeout=timeout)
        self._thread = threading.Thread(target=self._run, name=f"peer {url}", daemon=True)
        self._down = False

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Ends the thread after what is queued; `wait`: until it has (at most 5 seconds)."""
        self._queue.put(None)
        if wait:
            self._thread.join(timeout=5)

    def put(self, signatures: Sequence[AttestationSignature]) -> None:
        for signed in signatures:
            self._queue.put(signed)

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < BATCH and not self._queue.empty():
                    item = self._queue.get_nowait()
                    if item is None:
                        self._post(batch)
                        return
                    batch.append(item)
                self._post(batch)
        finally:
            self._client.close()

    def _post(self, batch: list[AttestationSignature]) -> None:
        body = SignatureBatch(signatures=batch).model_dump_json()
        try:
            response = self._client.post(
                f"{self.url}/v1/signatures", content=body, headers={"content-type": "application/json"}
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            if not self._down:  # one line per outage, not one per batch
                log.warning("peer %s unreachable: %s", self.url, error)
            self._down = True
            return
        self._heard()
        if self._down:
            log.info("peer %s reachable again", self.url)
        self._down = False


class Peers:
    """The outboxes of the current peers: the configured URLs, or the endpoints published on chain."""

    def __init__(
        self,
        configured: Sequence[str],  # the `peers` setting; empty: follow the chain
        operators: OperatorSet,
        me: str,  # our operator address: our own endpoint is not a peer
        timeout: float,  # seconds per POST to a peer
    ) -> None:
        self._operators, self._me, self._timeout = operators, me, timeout
        self._fixed = [url for url in (usable(u) for u in configured) if url]
        bad = [u for u in configured if not usable(u)]
        if bad:
            log.warning("peers setting: not http(s) URLs, skipped: %s", ", ".join(bad))
        self._outboxes: dict[str, Outbox] = {}
        self._warned: set[tuple[str, str]] = set()
        self.heard_at = 0.0  # wall clock of the last batch a peer took from us
        self._started = False

    @property
    def from_chain(self) -> bool:
        """Whether the peers are the operators' published endpoints (no `peers` setting)."""
        return not self._fixed

    def urls(self) -> list[str]:
        """The peers' URLs now (the chain's are read at most every few seconds)."""
        if self._fixed:
            return list(self._fixed)
        found = []
        for operator, endpoint in sorted(self._operators.current().endpoints.items()):
            if operator == self._me:
                continue
            url = usable(endpoint)
            if url is None:
                if (operator, endpoint) not in self._warned:
                    self._warned.add((operator, endpoint))
                    log.warning(
                        "operator %s published an endpoint that is not an http(s) URL: %r", operator, endpoint
                    )
                continue
            found.append(url)
        return found

    def start(self) -> None:
        """Starts the outboxes of the peers known now."""
        self._started = True
        if not self.outboxes():
            where = "in the peers setting" if self._fixed else "published on chain (setEndpoint) yet"
            log.warning("no peers %s: verdicts wait for the on-chain fallback until some appear", where)

    def outboxes(self) -> list[Outbox]:
        """One started outbox per current peer: new peers get one, peers that left lose theirs (an RPC
        that fails now keeps the peers as they were)."""
        try:
            wanted = set(self.urls()) if self._started else set()
        except ChainUnavailable as error:
            log.warning("peers not re-read from chain: %s", error)
            return list(self._outboxes.values())
        for url in set(self._outboxes) - wanted:
            log.info("peer %s left", url)
            self._outboxes.pop(url).stop(wait=False)
        for url in sorted(wanted - set(self._outboxes)):
            if self.from_chain:
                log.info("peer %s found on chain", url)
            outbox = self._outboxes[url] = Outbox(url, self._timeout, self._heard)
            outbox.start()
        return list(self._outboxes.values())

    def close(self) -> None:
        """Stops every outbox (what is queued is pushed again by the next run)."""
        self._started = False
        for outbox in self._outboxes.values():
            outbox.stop()
        self._outboxes.clear()

    def _heard(self) -> None:
        self.heard_at = time.time()
