"""A chain for the runtime's tests: anvil, a contract that emits whatever log it is told to, and a JSON-RPC
proxy that refuses wide log ranges the way hosted RPCs do. Nothing here knows the protocol."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from web3 import Web3

# Runtime code: LOG1(topic = calldata[0:32], data = calldata[32:64]), then STOP.
#   PUSH1 32 CALLDATALOAD PUSH1 0 MSTORE      memory[0:32] = calldata[32:64]
#   PUSH1 0 CALLDATALOAD PUSH1 32 PUSH1 0 LOG1  log memory[0:32] under topic calldata[0:32]
EMITTER_RUNTIME = bytes.fromhex("602035600052" + "600035" + "60206000a1" + "00")
# Init code: CODECOPY the runtime (which follows these 12 bytes) to memory 0 and RETURN it.
EMITTER_INIT = (
    bytes.fromhex(f"60{len(EMITTER_RUNTIME):02x}600c600039" + f"60{len(EMITTER_RUNTIME):02x}6000f3")
    + EMITTER_RUNTIME
)


def topic(name: str) -> str:
    """A 0x-hex topic for `name`, as an event signature's would be."""
    return "0x" + Web3.keccak(text=name).hex()


@dataclass
class Emitter:
    """A deployed emitter contract, driven from one of anvil's unlocked accounts."""

    w3: Web3
    address: str
    sender: str

    @classmethod
    def deploy(cls, w3: Web3, sender: str) -> "Emitter":
        tx_hash = w3.eth.send_transaction({"from": sender, "data": EMITTER_INIT, "gas": 100_000})
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        assert receipt["contractAddress"] is not None and receipt["status"] == 1
        assert w3.eth.get_code(receipt["contractAddress"]) == EMITTER_RUNTIME
        return cls(w3, str(receipt["contractAddress"]), sender)

    def call_data(self, event: str, value: int) -> bytes:
        """Calldata that makes the emitter log `value` under `event`'s topic."""
        return bytes.fromhex(topic(event)[2:]) + value.to_bytes(32, "big")

    def emit(self, event: str, value: int) -> int:
        """Emits one log in a transaction of its own; returns the block it was mined in."""
        tx = {"from": self.sender, "to": self.address, "data": self.call_data(event, value), "gas": 50_000}
        receipt = self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_transaction(tx), timeout=30)
        assert receipt["status"] == 1
        return int(receipt["blockNumber"])


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    """One request to anvil that must succeed (evm_mine, anvil_reorg, ...)."""
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in response, response
    return response.get("result")


JSON = {"Content-Type": "application/json"}


class RpcProxy:
    """Forwards JSON-RPC to `upstream`, except eth_getLogs over more than `max_range` blocks: refused."""

    def __init__(self, upstream: str, max_range: int) -> None:
        self.upstream, self.max_range = upstream, max_range
        self.refused = 0
        self._client = httpx.Client(timeout=30.0)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def answer(self, body: bytes) -> bytes:
        """Single requests and batches: a wide eth_getLogs is refused in either, the rest forwarded."""
        asked = json.loads(body)
        requests = asked if isinstance(asked, list) else [asked]
        refusals = {r["id"]: self._refusal(r) for r in requests if self._too_wide(r)}
        if not refusals:
            return self._client.post(self.upstream, content=body, headers=JSON).content
        rest = [r for r in requests if r["id"] not in refusals]
        forwarded = self._client.post(self.upstream, json=rest, headers=JSON).json() if rest else []
        answers = {a["id"]: a for a in forwarded} | refusals
        ordered = [answers[r["id"]] for r in requests]
        return json.dumps(ordered if isinstance(asked, list) else ordered[0]).encode()

    def _too_wide(self, request: dict[str, Any]) -> bool:
        if request.get("method") != "eth_getLogs":
            return False
        query = request["params"][0]
        return int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1 > self.max_range

    def _refusal(self, request: dict[str, Any]) -> dict[str, Any]:
        self.refused += 1
        error = {"code": -32005, "message": f"query exceeds {self.max_range} blocks"}
        return {"jsonrpc": "2.0", "id": request["id"], "error": error}

    @contextmanager
    def serving(self) -> Iterator["RpcProxy"]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join()
            self._client.close()


def _handler(proxy: RpcProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = proxy.answer(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
