"""A real HTTP server on 127.0.0.1 for the node's fetch and helpdesk tests, and the job its bundles name."""

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from eth_utils import keccak

from oracle_node.verdicts import VerificationRequest
from protocol_core.evidence import EvidenceBundle, Outcome, build_bundle

CHAIN_ID = 137
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
JOB_ID = keccak(b"job-1")
CONFIRMER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"  # anvil account 3
CONFIRMER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
OTHER_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"  # anvil account 4
ZERO_ADDRESS = "0x" + "00" * 20


def make_bundle(key: str = CONFIRMER_KEY, **fields: Any) -> EvidenceBundle:
    """A bundle for the test job, confirmed by `key`; `fields` override the defaults."""
    defaults: dict[str, Any] = {
        "chain_id": CHAIN_ID,
        "escrow": ESCROW,
        "job_id": JOB_ID,
        "ticket_ref": "ZD-1042",
        "outcome": Outcome.RESOLVED,
        "confirmed_at": 1_750_000_000,
        "summary": "Reset the customer's 2FA; they logged in again — café ✓",
    }
    return build_bundle(key, **{**defaults, **fields})


def make_request(uri: str, raw: bytes, **fields: Any) -> VerificationRequest:
    """The request the daemon would make for `raw` served at `uri`; `fields` override the defaults."""
    defaults: dict[str, Any] = {
        "chain_id": CHAIN_ID,
        "escrow": ESCROW,
        "job_id": JOB_ID,
        "evidence_hash": keccak(raw),
        "uri": uri,
        "confirmer": CONFIRMER,
    }
    return VerificationRequest(**{**defaults, **fields})


@dataclass(frozen=True)
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    delay: float = 0.0  # seconds to hold the answer (released early when the server stops)
    require: dict[str, str] = field(default_factory=dict)  # request headers without which it answers 401
    trickle: float = 0.0  # seconds between the bytes of the status line and headers (a slowloris)


class EvidenceServer:
    """Serves `routes` by exact raw path; counts the requests per path and keeps their headers."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.request_headers: list[dict[str, str]] = []
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        # A short poll keeps stop() (which waits for the loop to notice) from costing half a second per test.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)

    @property
    def base(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        """The full URL of `path`."""
        return self.base + path

    def add(self, path: str, route: Route) -> str:
        """Serves `route` at `path`; returns its URL."""
        self.routes[path] = route
        return self.url(path)

    def start(self) -> None:
        """Starts answering in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Releases delayed answers and stops the server."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: EvidenceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.hits[self.path] += 1
            server.request_headers.append(dict(self.headers.items()))
            route = server.routes.get(self.path, Route(b"not found", status=404))
            if any(self.headers.get(name) != value for name, value in route.require.items()):
                route = Route(b"unauthorized", status=401)
            if route.delay:
                server._stopping.wait(route.delay)
            if route.trickle:
                self._trickle(route)
                return
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.content_length:
                self.send_header("Content-Length", str(len(route.body)))
            self.send_header("Connection", "close")
            try:
                self.end_headers()
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (a timeout test)

        def _trickle(self, route: Route) -> None:
            head = b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"." * 10_000 + b"\r\n\r\n"
            try:
                for byte in head:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    if server._stopping.wait(route.trickle):
                        return
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving() -> Iterator[EvidenceServer]:
    """A started server, stopped on exit."""
    server = EvidenceServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
