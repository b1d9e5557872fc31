"""anvil as a child process, free loopback ports, and a bounded poll for conditions."""

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

POLL = 0.05  # seconds between two looks at a condition


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
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

    def __init__(self, workdir: Path, accounts: int = 20) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._state = workdir / "anvil-state.json"
        self._accounts = accounts
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Starts anvil (with the saved state, if any) and waits until it listens."""
        self._process = subprocess.Popen(
            ["anvil", "--host", "127.0.0.1", "--port", str(self.port), "--accounts", str(self._accounts),
             "--state", str(self._state)],
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
