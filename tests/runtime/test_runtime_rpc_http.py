"""The runtime's JSON-RPC transport against real HTTP servers on 127.0.0.1: one connection kept alive
per thread, a connection the server dropped replaced without the caller noticing, and servers that
are down or answer with an HTTP error turned into ChainUnavailable."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from web3 import Web3

from devtools.chain import free_port
from runtime.errors import ChainUnavailable
from runtime.rpc import JsonRpc
from runtime.rpc_http import HttpEndpoint, proxied


class Rpc:
    """A JSON-RPC server that answers eth_blockNumber with 0x2a, counting connections and requests."""

    def __init__(self, keep_alive: bool, drop_after_answer: bool = False, status: int = 200) -> None:
        self.connections = self.requests = 0
        self.bodies: list[Any] = []
        rpc = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def setup(self) -> None:
                super().setup()
                rpc.connections += 1

            def do_POST(self) -> None:
                rpc.requests += 1
                asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                rpc.bodies.append(asked)
                calls = asked if isinstance(asked, list) else [asked]
                answers = [{"jsonrpc": "2.0", "id": call["id"], "result": "0x2a"} for call in calls]
                data = json.dumps(answers if isinstance(asked, list) else answers[0]).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                # A server (or a proxy) that drops an idle connection without saying so beforehand.
                self.close_connection = drop_after_answer

            def log_message(self, *_: Any) -> None:
                return

        self.url = f"http://127.0.0.1:{free_port()}"
        self._server = ThreadingHTTPServer(("127.0.0.1", int(self.url.rsplit(":", 1)[1])), Handler)

    @contextmanager
    def serving(self) -> Iterator["Rpc"]:
        thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


def rpc_over(url: str) -> JsonRpc:
    return JsonRpc(Web3(Web3.HTTPProvider(url)), HttpEndpoint(url, timeout=5))


def test_requests_and_batches_share_one_kept_alive_connection():
    with Rpc(keep_alive=True).serving() as server:
        rpc = rpc_over(server.url)
        assert rpc.result("eth_blockNumber") == "0x2a"
        assert rpc.batch([("eth_blockNumber", []), ("eth_chainId", [])]) == ["0x2a", "0x2a"]
        assert rpc.result("eth_getCode", b"\x01\x02", "latest") == "0x2a"  # bytes go as 0x-hex
    assert (server.requests, server.connections) == (3, 1)
    assert server.bodies[1] == [
        {"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
    ]
    assert server.bodies[2]["params"] == ["0x0102", "latest"]


@pytest.mark.parametrize("keep_alive", [False, True], ids=["connection-close", "dropped-silently"])
def test_a_connection_the_server_closed_is_replaced_and_the_request_answered(keep_alive):
    with Rpc(keep_alive=keep_alive, drop_after_answer=True).serving() as server:
        rpc = rpc_over(server.url)
        assert [rpc.result("eth_blockNumber") for _ in range(3)] == ["0x2a"] * 3
    assert (server.requests, server.connections) == (3, 3)


def test_an_http_error_status_is_chain_unavailable_with_the_status():
    with (
        Rpc(keep_alive=True, status=503).serving() as server,
        pytest.raises(ChainUnavailable, match="HTTP 503"),
    ):
        rpc_over(server.url).result("eth_blockNumber")


def test_an_endpoint_nobody_listens_on_is_unreachable():
    with pytest.raises(ChainUnavailable, match="RPC unreachable"):
        rpc_over(f"http://127.0.0.1:{free_port()}").result("eth_blockNumber")


def test_an_endpoint_behind_an_environment_proxy_keeps_web3s_provider(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert proxied("http://rpc.example:8545")
    assert JsonRpc.over_http("http://rpc.example:8545")._endpoint is None
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.delenv("http_proxy", raising=False)
    assert JsonRpc.over_http("http://rpc.example:8545")._endpoint is not None
