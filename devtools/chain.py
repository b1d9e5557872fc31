"""anvil as a child process, free loopback ports, and a bounded poll for conditions."""

import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

POLL = 0.05  # seconds between two looks at a condition


_HANDED_OUT: set[int] = set()  # ports this process gave a daemon: still theirs across a restart


def _ephemeral_floor() -> int:
    """The lowest port the kernel gives outgoing connections (Linux: 32768 unless configured)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _my_ports() -> tuple[int, int]:
    """This process's slice of the ports below the ephemeral range: each pytest-xdist worker has its own
    (a port one worker keeps for a daemon's restart is never another's), other processes the first."""
    floor = _ephemeral_floor()
    low = max(1024, floor - 20000)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "") or 2)  # `make test` runs two
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    size = (floor - low) // (workers + 1)
    slot = int(worker[2:]) % workers + 1 if worker.startswith("gw") and worker[2:].isdigit() else 0
    return low + size * slot, low + size * (slot + 1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing holds now, chosen below the ephemeral range.

    The kernel's own pick (bind to port 0) comes from the range it also gives outgoing connections,
    so a daemon restarted on "its" port could find a client socket sitting there; ports below that
    range are only ever taken by someone binding them on purpose.
    """
    low, high = _my_ports()
    for _ in range(200):
        port = random.randrange(low, high)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    with socket.socket() as probe:  # a crowded machine: fall back to the kernel's choice
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Polls `condition` until it returns something truthy; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL)  # polling interval of a condition, not a synchronisation guess
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class Anvil:
    """anvil on a free loopback port with the real contract-size limit; stop() saves, start() reloads."""

    def __init__(
        self,
        workdir: Path,
        accounts: int = 20,
        *,
        chain_id: int | None = None,
        fork_url: str | None = None,
        block_time: int | None = None,
        name: str = "anvil",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._state = workdir / f"{name}-state.json"
        # anvil writes old states to disk and leaves them behind when killed: keep them in the workdir,
        # not in ~/.foundry/anvil/tmp, where killed test chains once filled the disk.
        self._cache = workdir / f"{name}-cache"
        self._accounts = accounts
        self._options = [
            *(["--chain-id", str(chain_id)] if chain_id is not None else []),
            *(["--fork-url", fork_url] if fork_url is not None else []),
            *(["--block-time", str(block_time)] if block_time is not None else []),
        ]
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Starts anvil (with the saved state, if any) and waits until it listens."""
        self._process = subprocess.Popen(
            ["anvil", "--host", "127.0.0.1", "--port", str(self.port), "--accounts", str(self._accounts),
             "--state", str(self._state), "--cache-path", str(self._cache), *self._options],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if "Listening on" in line:
                break
        else:
            raise AssertionError("anvil exited before listening")
        # Drain anvil's output so a full pipe never blocks it.
        subprocess.Popen(["cat"], stdin=self._process.stdout, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        """Stops anvil gracefully: it writes its state for the next start()."""
        if self._process is not None:
            self._process.send_signal(signal.SIGINT)
            self._process.wait(timeout=30)
            self._process = None

    def kill(self) -> None:
        """Ends anvil at once."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def rpc_call(url: str, method: str, *params: Any) -> Any:
    """One JSON-RPC request; AssertionError with the node's answer when it fails."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert "error" not in answer, f"{method}: {answer['error']}"
    return answer["result"]


def place_contract(url: str, bytecode: str, at: str, slots: int = 16) -> None:
    """Deploys `bytecode` on the anvil at `url`, then copies its code and first storage slots to `at`.

    This is how a fork's upstream gets a token at a real network's address (USDC on Amoy) that a
    constructor initialised: anvil_setCode alone would leave its name, symbol and balances empty.
    """
    sender = rpc_call(url, "eth_accounts")[0]
    tx_hash = rpc_call(url, "eth_sendTransaction", {"from": sender, "data": bytecode, "gas": hex(10_000_000)})
    receipt = wait_for(lambda: rpc_call(url, "eth_getTransactionReceipt", tx_hash), 30, "the deployment")
    source = receipt["contractAddress"]
    rpc_call(url, "anvil_setCode", at, rpc_call(url, "eth_getCode", source, "latest"))
    for slot in range(slots):
        value = rpc_call(url, "eth_getStorageAt", source, hex(slot), "latest")
        rpc_call(url, "anvil_setStorageAt", at, hex(slot), "0x" + value[2:].rjust(64, "0"))
