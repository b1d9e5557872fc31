"""HTTP liveness, readiness and metrics of a daemon: /healthz, /readyz and /metrics on one port."""

import errno
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from .errors import ConfigError
from .metrics import Metrics

log = logging.getLogger(__name__)


class HealthServer:
    """Serves a daemon's health on (host, port) from daemon threads; port 0 picks a free port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        metrics: Metrics | None = None,
        *,
        staleness: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.metrics = metrics if metrics is not None else Metrics("daemon")
        self._requested_port, self._staleness, self._clock = port, staleness, clock
        self._lock = threading.Lock()
        self._last_beat = clock()  # a daemon that just started counts as alive for one staleness period
        self._ready, self._reason = False, "starting"
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound (differs from the requested one when that was 0)."""
        if self._httpd is None:
            raise RuntimeError("HealthServer.port is known once start() has bound the socket")
        return int(self._httpd.server_address[1])

    def beat(self) -> None:
        """Records that the daemon's loop completed a pass."""
        with self._lock:
            self._last_beat = self._clock()

    def set_ready(self, ready: bool, reason: str = "") -> None:
        """Records whether the daemon can serve (RPC reachable, caught up) and why not."""
        with self._lock:
            self._ready, self._reason = ready, reason

    def liveness(self) -> tuple[bool, str]:
        """Whether the loop beat within the staleness period, with a message for /healthz."""
        with self._lock:
            age = self._clock() - self._last_beat
        if age > self._staleness:
            return False, f"stale: last pass {age:.1f}s ago (limit {self._staleness:.1f}s)"
        return True, "ok"

    def readiness(self) -> tuple[bool, str]:
        """The daemon's last readiness report, with a message for /readyz."""
        with self._lock:
            ready, reason = self._ready, self._reason
        return (True, "ready") if ready else (False, reason or "not ready")

    def start(self) -> None:
        """Binds the socket and serves from a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("HealthServer is already started")
        try:
            self._httpd = _Server((self.host, self._requested_port), self)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {self._requested_port} on {self.host} is in use: stop what holds it, or pass "
                    "another --metrics-port (0 picks a free one)"
                ) from error
            raise ConfigError(
                f"cannot serve health on {self.host}:{self._requested_port} ({error.strerror})"
            ) from error
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=f"health:{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stops serving and closes the socket; safe to call when not started."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join()
        self._httpd = self._thread = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], health: HealthServer) -> None:
        self.health = health
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        health = self.server.health
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            ok, message = health.liveness()
            self._send(200 if ok else 503, message.encode() + b"\n")
        elif path == "/readyz":
            ok, message = health.readiness()
            self._send(200 if ok else 503, message.encode() + b"\n")
        elif path == "/metrics":
            self._send(200, health.metrics.render(), CONTENT_TYPE_PLAIN_0_0_4)
        else:
            self._send(404, b"not found: try /healthz, /readyz or /metrics\n")

    def _send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("health %s: " + format, self.client_address[0], *args)
