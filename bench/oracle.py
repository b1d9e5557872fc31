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
import time
from pathlib import Path

from oracle_relay import measure_relay  # beside this script
from oracle_setup import bench_chain, job_clock, paced, percentile

from devtools.accounts import OPERATORS, WORKERS
from devtools.chain import wait_for
from devtools.oracle_nodes import OracleNode
from devtools.protocol import Protocol

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "bench" / "out" / "oracle.json"


EVENTS = {"evidence": ("JobEscrow", "EvidenceSubmitted"), "verdict": ("VerificationOracle", "VerdictReached")}


def measure(nodes: int, jobs: int, rate: float, workdir: Path) -> dict:
    """Runs both phases for `nodes` nodes with a quorum of min(nodes, 2)."""
    running: list[OracleNode] = []
    with bench_chain(workdir, OPERATORS[:nodes], quorum=min(nodes, 2)) as bench:
        try:
            protocol = bench.protocol
            running = [OracleNode(workdir, bench.rpc, bench.deployments, alias) for alias in bench.aliases]
            print(f"  {nodes} node(s): posting {jobs} backlog jobs...", flush=True)
            backlog = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(jobs)]
            for job in backlog:
                protocol.submit(job)
            with job_clock(protocol, EVENTS) as clock:
                seen = clock.seen["verdict"]
                start = time.monotonic()
                for node in running:
                    node.start()
                wait_for(lambda: len(seen) >= jobs, timeout=600, what="the backlog's verdicts")
                first = min(seen.values())
                elapsed = max(seen.values()) - first
                startup = first - start
            print(f"  {nodes} node(s): backlog drained, {jobs / elapsed:.1f} verifications/s", flush=True)
            latencies = _paced(protocol, jobs, rate)
        finally:
            for node in running:
                node.stop()
    return {
        "nodes": nodes,
        "quorum": min(nodes, 2),
        "jobs": jobs,
        "throughput_per_s": round(jobs / elapsed, 1),
        "backlog_seconds": round(elapsed, 2),
        "startup_seconds": round(startup, 2),
        "paced_rate_per_s": rate,
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p99_s": round(percentile(latencies, 99), 3),
        "latency_max_s": round(max(latencies), 3),
    }


def _paced(protocol: Protocol, jobs: int, rate: float) -> list[float]:
    fresh = [protocol.post(WORKERS[i % len(WORKERS)]) for i in range(jobs)]
    with job_clock(protocol, EVENTS) as clock:
        paced(jobs, rate, lambda i: protocol.submit(fresh[i]))
        wait_for(lambda: len(clock.seen["verdict"]) >= jobs, timeout=600, what="the paced verdicts")
        return [clock.seen["verdict"][job.job_id] - clock.seen["evidence"][job.job_id] for job in fresh]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500, help="jobs per phase (at least 500 for the report)")
    parser.add_argument("--rate", type=float, default=50.0, help="evidence submissions per second when paced")
    parser.add_argument("--relayed-only", action="store_true", help="only the relayed flow's figures")
    parser.add_argument(
        "--one-node-hand-in", action="store_true", help="also measure bundles handed to one node each"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()  # other work on the machine shares its two cores with the bench
    results = []
    for nodes in () if args.relayed_only else (1, 3):
        with tempfile.TemporaryDirectory(prefix=f"oracle-bench-{nodes}-") as workdir:
            results.append(measure(nodes, args.jobs, args.rate, Path(workdir)))
    with tempfile.TemporaryDirectory(prefix="oracle-bench-relayed-") as workdir:
        relayed = measure_relay(args.jobs, args.rate, Path(workdir))
    if args.one_node_hand_in:
        with tempfile.TemporaryDirectory(prefix="oracle-bench-relayed-one-") as workdir:
            relayed["one_node_hand_in"] = measure_relay(args.jobs, args.rate, Path(workdir), every_node=False)
    load = os.getloadavg()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    if args.relayed_only and OUT.exists():
        results = json.loads(OUT.read_text()).get("runs", [])
    figures = {
        **relayed,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load],
        "runs": results,
    }
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(
        f"relayed, 3 nodes, quorum 2: {relayed['three_node_throughput']} verifications/s; at "
        f"{args.rate}/s handed in -> paid p50 {relayed['paid_p50_s']} s, p99 {relayed['paid_p99_s']} s; "
        f"{relayed['reverted_attestations']} reverted attestations (load {load_before[0]:.2f} before, "
        f"{load[0]:.2f} after); CPU ms per verification: {relayed['cpu_ms_per_verification']}"
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
