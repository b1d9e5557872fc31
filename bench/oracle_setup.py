"""What the oracle benches share: a fresh anvil with the system deployed and operators staked, a poller
that notes when each job's logs first appeared, a paced load and percentiles."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.accounts import write_keystores
from devtools.chain import Anvil
from devtools.protocol import Protocol, deploy


@dataclass(frozen=True)
class BenchChain:
    """A bench's chain: its RPC, the deployed system driven by web3, the deployments file, the keystores."""

    rpc: str
    protocol: Protocol
    deployments: Path
    aliases: list[str]  # the operators' ape aliases, op<index>


@contextmanager
def bench_chain(workdir: Path, operators: tuple[int, ...], quorum: int) -> Iterator[BenchChain]:
    """A fresh anvil in `workdir`, deployed by the project's script, `operators` staked; killed after."""
    anvil = Anvil(workdir)
    anvil.start()
    try:
        deployments = workdir / "deployments.json"
        protocol = Protocol.connect(anvil.url, deploy(anvil.url, deployments), workdir / "evidence")
        protocol.set_up(quorum=quorum, operators=operators)
        yield BenchChain(anvil.url, protocol, deployments, write_keystores(workdir / "ape", operators))
    finally:
        anvil.kill()


class LogClock:
    """Polls the chain every 10 ms and notes when each job's logs of each watched event first appeared:
    `clock.seen[name][job_id]`, monotonic seconds."""

    def __init__(self, protocol: Protocol, events: dict[str, tuple[str, str]]) -> None:
        # name -> (contract, event), e.g. {"paid": ("JobEscrow", "WorkerPaid")}
        self._events = {
            name: getattr(protocol.contracts[contract].events, event)
            for name, (contract, event) in events.items()
        }
        self.seen: dict[str, dict[str, float]] = {name: {} for name in events}
        self._w3 = protocol.w3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._next = protocol.w3.eth.block_number + 1

    def __enter__(self) -> "LogClock":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            head = self._w3.eth.block_number
            if head >= self._next:
                now = time.monotonic()
                for name, event in self._events.items():
                    for log in event.get_logs(from_block=self._next, to_block=head):
                        self.seen[name].setdefault("0x" + bytes(log["args"]["jobId"]).hex(), now)
                self._next = head + 1
            self._stop.wait(0.01)


def paced(count: int, rate: float, act: Callable[[int], Any]) -> None:
    """Calls act(0) .. act(count - 1), the i-th at i / rate seconds from now."""
    began = time.monotonic()
    for i in range(count):
        due = began + i / rate
        while time.monotonic() < due:  # pacing the load generator, not synchronising a test
            time.sleep(min(0.002, max(0.0, due - time.monotonic())))
        act(i)


def percentile(values: list[float], pct: float) -> float:
    """The `pct`-th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]
