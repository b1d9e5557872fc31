"""What the oracle benches share: a fresh anvil with the system deployed and operators staked, a poller
that notes when each job's logs first appeared, a paced load and percentiles."""

import os
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
from protocol_core.abi import abi
from runtime.abi import event_topic
from runtime.rpc import JsonRpc

POLL = 0.01  # seconds between two looks for new logs


@dataclass(frozen=True)
class BenchChain:
    """A bench's chain: its RPC, the deployed system driven by web3, the deployments file, the keystores."""

    rpc: str
    protocol: Protocol
    deployments: Path
    aliases: list[str]  # the operators' ape aliases, op<index>
    anvil_pid: int  # for the CPU time anvil spends (cpu_seconds)


@contextmanager
def bench_chain(workdir: Path, operators: tuple[int, ...], quorum: int) -> Iterator[BenchChain]:
    """A fresh anvil in `workdir`, deployed by the project's script, `operators` staked; killed after."""
    anvil = Anvil(workdir)
    anvil.start()
    try:
        deployments = workdir / "deployments.json"
        protocol = Protocol.connect(anvil.url, deploy(anvil.url, deployments), workdir / "evidence")
        protocol.set_up(quorum=quorum, operators=operators)
        aliases = write_keystores(workdir / "ape", operators)
        assert anvil._process is not None  # started above
        yield BenchChain(anvil.url, protocol, deployments, aliases, anvil._process.pid)
    finally:
        anvil.kill()


class JobClock:
    """When each job's logs first appeared: `seen[name][job_id]`, the time.monotonic() of the poll that
    first returned it. One thread asks a log filter for what is new every 10 ms, over one keep-alive
    connection and with no decoding beyond the topics, so that the clock costs the machine (whose CPU the
    nodes under measurement share) next to nothing (web3's block-number-then-get_logs poller cost about
    as much CPU as one node)."""

    def __init__(self, rpc: str, events: dict[str, tuple[str, str]]) -> None:
        self._events = events
        self.seen: dict[str, dict[str, float]] = {name: {} for name in events}
        self._rpc = JsonRpc.over_http(rpc).result  # one kept-alive connection per thread
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._names: dict[tuple[str, str], str] = {}
        self._filter = ""
        self._after = 0  # logs of this block and before are older than the clock

    def watch(self, addresses: dict[str, str]) -> "JobClock":
        """Builds the filter over the events (`addresses`: contract name -> address); later blocks only."""
        for name, (contract, event) in self._events.items():
            self._names[(addresses[contract].lower(), event_topic(abi(contract), event))] = name
        self._after = int(self._rpc("eth_blockNumber"), 16)  # a filter cannot start past the head
        self._filter = self._rpc(
            "eth_newFilter",
            {
                "fromBlock": hex(self._after),
                "address": sorted({address for address, _ in self._names}),
                "topics": [sorted({topic for _, topic in self._names})],
            },
        )
        return self

    def __enter__(self) -> "JobClock":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            logs = self._rpc("eth_getFilterChanges", self._filter)
            now = time.monotonic()
            for log in logs:
                name = self._names.get((log["address"].lower(), log["topics"][0]))
                if name is not None and int(log["blockNumber"], 16) > self._after:
                    self.seen[name].setdefault(log["topics"][1], now)
            self._stop.wait(POLL)


def job_clock(protocol: Protocol, events: dict[str, tuple[str, str]]) -> JobClock:
    """A JobClock over `events` (name -> (contract, event), e.g. {"paid": ("JobEscrow", "WorkerPaid")}),
    keyed by job id (each event's first indexed argument): `clock.seen[name][job_id]`, monotonic seconds."""
    rpc = str(protocol.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    addresses = {name: contract.address for name, contract in protocol.contracts.items()}
    return JobClock(rpc, events).watch(addresses)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process `pid` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
