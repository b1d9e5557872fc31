"""Starting `oracle-node run`: a flaky RPC is retried; decrypting the keystore does not double the memory."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from devtools.accounts import OPERATORS, PASSPHRASE, key_of, write_keystore
from devtools.oracle_nodes import OracleNode

pytestmark = pytest.mark.usefixtures("redis_server", "postgres_url")  # see test_oracle_node.py


class FlakyRpc:
    """Forwards JSON-RPC to `upstream`, but refuses the first `failures` requests as rate-limited."""

    def __init__(self, upstream: str, failures: int) -> None:
        self.upstream, self.failures, self.seen = upstream, failures, 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with proxy._lock:
                    proxy.seen += 1
                    fail = proxy.seen <= proxy.failures
                if fail:  # what a rate-limited public RPC answers; web3 does not retry these
                    request = json.loads(body)
                    error = {"code": -32005, "message": "limit exceeded"}
                    refused = json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "error": error})
                    self._reply(refused.encode())
                    return
                answer = httpx.post(
                    proxy.upstream, content=body, headers={"Content-Type": "application/json"}
                )
                self._reply(answer.content)

            def _reply(self, content: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FlakyRpc":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def test_rpc_failing_at_start_is_retried_and_the_node_gets_ready(tmp_path, deployed_anvil):
    write_keystore(tmp_path / "ape", "op", key_of(OPERATORS[0]))
    with FlakyRpc(deployed_anvil.url, failures=3) as flaky:
        node = OracleNode(tmp_path, flaky.url, tmp_path / "deployments.json", "op")
        try:
            node.start("/readyz")
            assert node.exit_code() is None
            assert flaky.seen > 3
            assert "retrying" in node.log()
        finally:
            node.kill()


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


PEAK_LIMIT_MB = 300  # the node runs at ~180 MB; scrypt's 256 MiB must not land on top of it


def test_decrypting_a_full_cost_keystore_keeps_the_peak_under_the_limit(tmp_path, deployed_anvil):
    keyfile = Account.encrypt(key_of(OPERATORS[0]), PASSPHRASE)  # scrypt n=2**18, as `ape accounts import`
    (tmp_path / "ape" / "accounts").mkdir(parents=True)
    (tmp_path / "ape" / "accounts" / "op.json").write_text(json.dumps(keyfile))
    node = OracleNode(tmp_path, deployed_anvil.url, tmp_path / "deployments.json", "op")
    try:
        node.start("/readyz")
        assert node.process is not None
        peak = _peak_rss_mb(node.process.pid)
        print(f"oracle-node peak RSS with a full-cost keystore: {peak:.0f} MB")
        assert peak < PEAK_LIMIT_MB
    finally:
        node.kill()
