"""What bounds one HTTP fetch of evidence: a wall-clock deadline, headers included, and a cap on the
inflated bytes (a compressed bomb is never expanded past the cap)."""

import contextlib
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any

from oracle_node.errors import EvidenceTooLarge, EvidenceUnavailable

ACCEPT_ENCODING = "gzip, deflate"  # the encodings `inflate` bounds; anything else is refused


class Deadline:
    """Shuts the fetch's connection down when `seconds` have passed, wherever the fetch is waiting.

    httpx's timeouts are per read: a server sending its headers a byte at a time never trips them.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """Seconds left, at least a millisecond (httpx refuses 0 as a timeout)."""
        return max(self._at - time.monotonic(), 0.001)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: remembers each socket the fetch connects."""
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        sock = info["return_value"].get_extra_info("socket")
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def expire(self) -> None:
        """Ends the fetch now: its deadline passed, or the node is stopping."""
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once; httpx raises a transport error


def inflate(url: str, encoding: str, chunks: Iterator[bytes], max_bytes: int) -> Iterator[bytes]:
    """The decoded bytes of `chunks` sent with Content-Encoding `encoding`; never more than `max_bytes`
    (plus one) are inflated, so a bomb raises EvidenceTooLarge after a few kilobytes of work."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        yield from chunks
        return
    if encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    else:
        raise EvidenceUnavailable(f"{url} is sent with Content-Encoding {encoding!r}; use gzip or none")
    produced = 0
    try:
        for chunk in chunks:
            data = chunk
            while data:
                out = decoder.decompress(data, max_bytes + 1 - produced)
                produced += len(out)
                if produced > max_bytes:
                    raise EvidenceTooLarge(f"{url} inflates to more than the limit of {max_bytes} bytes")
                yield out
                data = decoder.unconsumed_tail
        yield decoder.flush()
    except zlib.error as exc:
        raise EvidenceUnavailable(f"{url}: the {encoding} body does not decode ({exc})") from exc
