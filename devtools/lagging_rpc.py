"""A load-balanced RPC double: a share of the requests is answered by a backend some blocks behind.

Public RPC providers spread requests over several backends, and some of them lag. This proxy answers
each HTTP request (a single request or a whole batch, as one backend would) either from the chain's
head or, for a `share` of them, as a backend `lag` blocks behind: every read is pinned to block
(head - lag) with anvil's block-tag support, so the stale answers are real answers of that block,
not invented ones. Blocks, receipts and transactions above it do not exist there, and a read pinned
to a newer block (EIP-1898 `{"blockHash": ...}` or a number) is refused as geth refuses it.
"""

import json
import random
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .chain import free_port

TAGS = ("latest", "pending", "safe", "finalized")
STATE_READS = {
    "eth_call": 1,
    "eth_estimateGas": 1,
    "eth_getTransactionCount": 1,
    "eth_getCode": 1,
    "eth_getBalance": 1,
}  # fmt: skip  (method: index of its block parameter)
UNKNOWN_BLOCK = {"code": -32000, "message": "header not found"}


class LaggingRpc:
    """Forwards JSON-RPC to `upstream`; a `share` of the requests is answered `lag` blocks behind."""

    def __init__(self, upstream: str, lag: int = 15, share: float = 0.4, seed: int = 11) -> None:
        self.upstream, self.lag, self.share = upstream, lag, share
        self.lagged = 0  # requests answered from the lagging backend
        self.stale = 0  # of those, answers that differ from what the head would have said (nulls, refusals)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "LaggingRpc":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, body: bytes) -> bytes:
        """The answer to one HTTP request's body."""
        with self._lock:
            behind = self._random.random() < self.share
            if behind:
                self.lagged += 1
        if not behind:
            return self._post(body)
        asked = json.loads(body)
        requests = asked if isinstance(asked, list) else [asked]
        view = max(0, int(self._call("eth_blockNumber"), 16) - self.lag)
        answers = [self._behind(request, view) for request in requests]
        return json.dumps(answers if isinstance(asked, list) else answers[0]).encode()

    def _behind(self, request: dict[str, Any], view: int) -> dict[str, Any]:
        """The answer of a backend whose head is block `view`."""
        method, params = request.get("method"), list(request.get("params") or [])
        reply = {"jsonrpc": "2.0", "id": request.get("id")}
        if method == "eth_blockNumber":
            return reply | {"result": hex(view)}
        if method == "eth_getBlockByNumber":
            number = view if params[0] in TAGS else int(params[0], 16)
            if number > view:
                return self._stale(reply | {"result": None})
            params[0] = hex(number)
        elif method in STATE_READS:
            at = STATE_READS[method]
            block = self._pinned(params[at] if len(params) > at else "latest", view)
            if block is None:
                return self._stale(reply | {"error": UNKNOWN_BLOCK})
            params = [*params[:at], block]
        elif method == "eth_getLogs":
            query = dict(params[0])
            if "blockHash" in query:
                if self._number_of(query["blockHash"]) > view:
                    return self._stale(reply | {"error": UNKNOWN_BLOCK})
            else:
                last = view if query.get("toBlock", "latest") in TAGS else int(query["toBlock"], 16)
                if last > view:  # what a lagging backend has of the range: logs up to its head
                    query["toBlock"] = hex(view)
                    if int(query.get("fromBlock", "0x0"), 16) > view:
                        return self._stale(reply | {"result": []})
                    self._stale(reply)
            params = [query]
        answer = self._forward(method, params, reply)
        result = answer.get("result")
        if method in ("eth_getTransactionReceipt", "eth_getTransactionByHash", "eth_getBlockByHash"):
            mined = result.get("blockNumber") if isinstance(result, dict) else None
            if mined is not None and int(mined, 16) > view:
                return self._stale(reply | {"result": None})
        return answer

    def _pinned(self, block: Any, view: int) -> str | None:
        """The block number a lagging backend reads `block` at, or None when it has no such block."""
        if isinstance(block, dict):
            pinned = block.get("blockHash")
            number = self._number_of(pinned) if pinned else int(block["blockNumber"], 16)
        else:
            number = view if block in TAGS else int(block, 16)
        return hex(number) if number <= view else None

    def _number_of(self, block_hash: str) -> int:
        block = self._call("eth_getBlockByHash", block_hash, False)
        return int(block["number"], 16) if block is not None else 1 << 62

    def _stale(self, answer: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.stale += 1
        return answer

    def _forward(self, method: Any, params: list[Any], reply: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        answer = json.loads(self._post(body))
        return reply | {key: answer[key] for key in ("result", "error") if key in answer}

    def _call(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        return json.loads(self._post(body)).get("result")

    def _post(self, body: bytes) -> bytes:
        request = urllib.request.Request(self.upstream, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as upstream:
            return bytes(upstream.read())


def _handler(proxy: LaggingRpc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            data = proxy.answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:  # keep test output quiet
            return

    return Handler
