"""JSON-RPC over HTTP(S) with one kept-alive connection per thread: the daemons' reads and sends.

web3's provider (requests, its session manager, its caching wrapper, the proxy settings read again for
every request) cost a node about 0.8 ms of CPU per request against about 0.1 ms here; a daemon's pass
makes several. An endpoint reached through a proxy from the environment keeps web3's provider
(JsonRpc.over_http), which honours the proxy settings.
"""

import base64
import http.client
import json
import threading
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

from .errors import ChainUnavailable

# A connection the server closed while it sat idle fails on its next use: sent again once, fresh.
_STALE = (
    http.client.RemoteDisconnected,
    http.client.CannotSendRequest,
    BrokenPipeError,
    ConnectionResetError,
)


def proxied(url: str) -> bool:
    """Whether the environment sends requests for `url` through a proxy (HTTP_PROXY and the like)."""
    parts = urlsplit(url)
    return parts.scheme in getproxies() and not proxy_bypass(parts.hostname or "")


class HttpEndpoint:
    """POSTs JSON-RPC bodies to one URL; each thread keeps its own connection open between requests."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._https, self._host, self._port = parts.scheme == "https", parts.hostname, parts.port
        self._timeout = timeout
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if parts.username is not None:  # https://user:secret@host/ as requests would send it
            secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(secret).decode()
        self._local = threading.local()

    def post(self, payload: Any) -> Any:
        """The decoded answer to `payload` (a request or a batch); OSError when nothing answers."""
        body = json.dumps(payload, default=_jsonable).encode()
        while True:
            connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
            reused = connection is not None
            if connection is None:
                connection = self._local.connection = self._connect()
            try:
                return self._exchange(connection, body)
            except (OSError, http.client.HTTPException) as error:
                connection.close()  # a timeout leaves an answer in flight: never reused
                self._local.connection = None
                if not (reused and isinstance(error, _STALE)):
                    raise

    def _connect(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self._timeout)

    def _exchange(self, connection: http.client.HTTPConnection, body: bytes) -> Any:
        connection.request("POST", self._path, body, self._headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            shown = data[:200].decode(errors="replace")
            raise ChainUnavailable(f"RPC answered HTTP {response.status} {response.reason}: {shown}")
        try:
            return json.loads(data)
        except ValueError as error:
            raise ChainUnavailable(f"RPC answered something that is not JSON: {data[:200]!r}") from error


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
