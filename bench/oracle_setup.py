"""What the oracle benches share: a fresh anvil with the system deployed and operators staked, a poller
that notes when each job's logs first appeared, a paced load and percentiles."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.accounts import write_keystores
from devtools.chain import Anvil
from devtools.log_clock import LogClock
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


def job_clock(protocol: Protocol, events: dict[str, tuple[str, str]]) -> LogClock:
    """A LogClock over `events` (name -> (contract, event), e.g. {"paid": ("JobEscrow", "WorkerPaid")}),
    keyed by job id: `clock.seen[name][job_id]`, monotonic seconds."""
    watched = {name: getattr(protocol.contracts[c].events, e) for name, (c, e) in events.items()}
    return LogClock(protocol.w3, watched, lambda _name, args: "0x" + bytes(args["jobId"]).hex())


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
