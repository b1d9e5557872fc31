"""Oracle-node throughput and latency on a local anvil, one node and three; writes bench/out/oracle.json.

Throughput: evidence for N jobs is submitted while the nodes are stopped; the nodes then start and
the clock runs from their first attestation until every job has its verdict (a backlog drain).
Latency: with the nodes running, evidence is submitted at a steady rate; each job's latency is the
time from its EvidenceSubmitted log to its VerdictReached log, both seen by one poller every 10 ms.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from oracle_relay import measure_relay  # beside this script

from devtools.accounts import OPERATORS, WORKERS, write_keystores
from devtools.chain import Anvil, wait_for
from devtools.oracle_nodes import OracleNode
from devtools.protocol import Protocol, deploy

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "bench" / "out" / "oracle.json"


class LogClock:
    """Polls the chain every 10 ms and notes when each job's evidence and verdict logs first appeared."""

    def __init__(self, protocol: Protocol) -> None:
        self._submitted = protocol.contracts["JobEscrow"].events.EvidenceSubmitted
        self._verdicts = protocol.contracts["VerificationOracle"].events.VerdictReached
        self._w3 = protocol.w3
        self.evidence: dict[str, float] = {}
        self.seen: dict[str, float] = {}  # verdicts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._next_block = protocol.w3.eth.block_number + 1

    def __enter__(self) -> "LogClock":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            head = self._w3.eth.block_number
            if head >= self._next_block:
                now = time.monotonic()
                for event, seen in ((self._submitted, self.evidence), (self._verdicts, self.seen)):
                    for log in event.get_logs(from_block=self._next_block, to_block=head):
                        seen.setdefault("0x" + bytes(log["args"]["jobId"]).hex(), now)
                self._next_block = head + 1
            self._stop.wait(0.01)


def measure(nodes: int, jobs: int, rate: float, workdir: Path) -> dict:
    """Runs both phases for `nodes` nodes with a quorum of min(nodes, 2)."""
    anvil = Anvil(workdir)
    anvil.start()
    running: list[OracleNode] = []
    try:
        deployments = workdir / "deployments.json"
        protocol = Protocol.connect(anvil.url, deploy(anvil.url, deployments), workdir / "evidence")
        operators = OPERATORS[:nodes]
        protocol.set_up(quorum=min(nodes, 2), operators=operators)
        aliases = write_keystores(workdir / "ape", operators)
        running = [OracleNode(workdir, anvil.url, deployments, alias) for alias in aliases]
        print(f"  {nodes} node(s): posting {jobs} backlog jobs...", flush=True)
        backlog = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(jobs)]
        for job in backlog:
            protocol.submit(job)
        with LogClock(protocol) as clock:
            start = time.monotonic()
            for node in running:
                node.start()
            wait_for(lambda: len(clock.seen) >= jobs, timeout=600, what="the backlog's verdicts")
            first = min(clock.seen.values())
            elapsed = max(clock.seen.values()) - first
            startup = first - start
        print(f"  {nodes} node(s): backlog drained, {jobs / elapsed:.1f} verifications/s", flush=True)
        latencies = _paced(protocol, jobs, rate)
        return {
            "nodes": nodes,
            "quorum": min(nodes, 2),
            "jobs": jobs,
            "throughput_per_s": round(jobs / elapsed, 1),
            "backlog_seconds": round(elapsed, 2),
            "startup_seconds": round(startup, 2),
            "paced_rate_per_s": rate,
            "latency_p50_s": round(statistics.median(latencies), 3),
            "latency_p99_s": round(_percentile(latencies, 99), 3),
            "latency_max_s": round(max(latencies), 3),
        }
    finally:
        for node in running:
            node.stop()
        anvil.kill()


def _paced(protocol: Protocol, jobs: int, rate: float) -> list[float]:
    fresh = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(jobs)]
    with LogClock(protocol) as clock:
        began = time.monotonic()
        for i, job in enumerate(fresh):
            due = began + i / rate
            while time.monotonic() < due:  # pacing the load generator, not synchronising a test
                time.sleep(min(0.002, max(0.0, due - time.monotonic())))
            protocol.submit(job)
        wait_for(lambda: len(clock.seen) >= jobs, timeout=600, what="the paced verdicts")
        return [clock.seen[job.job_id] - clock.evidence[job.job_id] for job in fresh]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500, help="jobs per phase (at least 500 for the report)")
    parser.add_argument("--rate", type=float, default=50.0, help="evidence submissions per second when paced")
    parser.add_argument("--relayed-only", action="store_true", help="only the relayed flow's figures")
    args = parser.parse_args()
    results = []
    for nodes in () if args.relayed_only else (1, 3):
        with tempfile.TemporaryDirectory(prefix=f"oracle-bench-{nodes}-") as workdir:
            results.append(measure(nodes, args.jobs, args.rate, Path(workdir)))
    with tempfile.TemporaryDirectory(prefix="oracle-bench-relayed-") as workdir:
        relayed = measure_relay(args.jobs, args.rate, Path(workdir))
    load = os.getloadavg()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    if args.relayed_only and OUT.exists():
        results = json.loads(OUT.read_text()).get("runs", [])
    figures = {**relayed, "load_average_after": [round(x, 2) for x in load], "runs": results}
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(
        f"relayed, 3 nodes, quorum 2: {relayed['three_node_throughput']} verifications/s; at "
        f"{args.rate}/s handed in -> paid p50 {relayed['paid_p50_s']} s, p99 {relayed['paid_p99_s']} s; "
        f"{relayed['reverted_attestations']} reverted attestations (load {load[0]:.2f})"
    )
    for run in results:
        print(
            f"{run['nodes']} node(s), quorum {run['quorum']}: {run['throughput_per_s']} verifications/s over "
            f"{run['jobs']} jobs; at {run['paced_rate_per_s']}/s p50 {run['latency_p50_s']} s, "
            f"p99 {run['latency_p99_s']} s"
        )
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
