"""A JSON-RPC proxy in front of anvil that answers web3_clientVersion as another client would.

Commands take an anvil for a local chain or fork; behind this proxy an anvil with Amoy's chain id
passes for Amoy itself, so the paths that only a live network takes (no test accounts, no file://
evidence, ape's node provider with the network's confirmations) run in tests on this machine.
"""

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .chain import free_port

LIVE_CLIENT = "bor/v2.0.0-devtools"  # what Polygon's node software calls itself, marked as a double


class RpcProxy:
    """Forwards every request to `upstream`; `with` starts and stops it on a free loopback port."""

    def __init__(self, upstream: str, client_version: str = LIVE_CLIENT) -> None:
        self.upstream, self.client_version = upstream, client_version
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "RpcProxy":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, asked: Any, answer: Any) -> Any:
        """The upstream's answer with the client version replaced (single requests and batches)."""
        requests = asked if isinstance(asked, list) else [asked]
        versions = {q.get("id") for q in requests if q.get("method") == "web3_clientVersion"}
        answers = answer if isinstance(answer, list) else [answer]
        changed = [{**a, "result": self.client_version} if a.get("id") in versions else a for a in answers]
        return changed if isinstance(answer, list) else changed[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                forward = urllib.request.Request(proxy.upstream, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(forward, timeout=60) as upstream:
                    answer = json.loads(upstream.read())
                data = json.dumps(proxy._answer(json.loads(body), answer)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:  # keep test output quiet
                return

        return Handler
