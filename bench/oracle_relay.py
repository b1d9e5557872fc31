"""The relayed flow's figures: three nodes that take evidence by HTTP, exchange signatures and pay in one
submitAndAttest. Throughput: N bundles handed in as fast as eight clients can, from the first hand-in
to the last VerdictReached. Latency: bundles handed in at a steady rate, each from its hand-in (the
node has the evidence) to its WorkerPaid log, seen by one poller every 10 ms."""

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from devtools.accounts import OPERATORS, WORKERS, key_of, write_keystores
from devtools.chain import Anvil, wait_for
from devtools.protocol import Job, Protocol, deploy
from devtools.relay import (
    Worker,
    hand_in,
    hire_relayed,
    intake_request,
    relayed_nodes,
    transactions_from,
)


class PaidClock:
    """Polls the chain every 10 ms and notes when each job's VerdictReached and WorkerPaid logs appeared."""

    def __init__(self, protocol: Protocol) -> None:
        self._verdicts = protocol.contracts["VerificationOracle"].events.VerdictReached
        self._paid = protocol.contracts["JobEscrow"].events.WorkerPaid
        self._w3 = protocol.w3
        self.verdict: dict[str, float] = {}
        self.paid: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._next = protocol.w3.eth.block_number + 1

    def __enter__(self) -> "PaidClock":
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
                for event, seen in ((self._verdicts, self.verdict), (self._paid, self.paid)):
                    for log in event.get_logs(from_block=self._next, to_block=head):
                        seen.setdefault("0x" + bytes(log["args"]["jobId"]).hex(), now)
                self._next = head + 1
            self._stop.wait(0.01)


def measure_relay(jobs: int, rate: float, workdir: Path) -> dict:
    """Both phases with three relayed nodes (quorum 2); the figures for bench/out/oracle.json."""
    anvil = Anvil(workdir)
    anvil.start()
    nodes = []
    try:
        deployments = workdir / "deployments.json"
        protocol = Protocol.connect(anvil.url, deploy(anvil.url, deployments), workdir / "evidence")
        protocol.set_up(quorum=2, operators=OPERATORS)
        aliases = write_keystores(workdir / "ape", OPERATORS)
        nodes = relayed_nodes(
            workdir, anvil.url, deployments, aliases, intake_per_worker=1000, intake_burst_per_worker=1000
        )
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        workers = [Worker(key_of(index)) for index in WORKERS]
        first_block = protocol.w3.eth.block_number + 1
        print(f"  relayed: hiring {2 * jobs} workers by signature...", flush=True)
        backlog = [hire_relayed(protocol, workers[i % len(workers)]) for i in range(jobs)]
        paced = [hire_relayed(protocol, workers[i % len(workers)]) for i in range(jobs)]
        urls = [node.intake_url for node in nodes]
        requests = [intake_request(protocol, job, workers[i % len(workers)]) for i, job in enumerate(backlog)]
        with PaidClock(protocol) as clock, httpx.Client() as client, ThreadPoolExecutor(8) as pool:
            start = time.monotonic()
            answers = list(
                pool.map(
                    lambda pair: hand_in(urls[pair[0] % 3], pair[1], client).status_code, enumerate(requests)
                )
            )
            assert set(answers) == {202}, answers
            wait_for(lambda: len(clock.paid) >= jobs, timeout=600, what="the backlog paid")
            throughput = jobs / (max(clock.verdict.values()) - start)
        print(f"  relayed: {throughput:.1f} verifications/s", flush=True)
        latencies = _paced(protocol, paced, workers, urls, rate)
        sent = transactions_from(protocol.w3, {protocol.account(i) for i in OPERATORS}, first_block)
        verifications = [
            tx for tx in sent if tx.function in ("attest", "attestWithSignatures", "submitAndAttest")
        ]
        return {
            "three_node_throughput": round(throughput, 1),
            "paid_p50_s": round(statistics.median(latencies), 3),
            "paid_p99_s": round(_percentile(latencies, 99), 3),
            "paid_max_s": round(max(latencies), 3),
            "reverted_attestations": sum(1 for tx in verifications if not tx.succeeded),
            "verification_transactions_per_job": round(len(verifications) / (2 * jobs), 3),
            "relayed_jobs": jobs,
            "relayed_rate_per_s": rate,
        }
    finally:
        for node in nodes:
            node.stop()
        anvil.kill()


def _paced(
    protocol: Protocol, jobs: list[Job], workers: list[Worker], urls: list[str], rate: float
) -> list[float]:
    handed: dict[str, float] = {}
    with PaidClock(protocol) as clock, httpx.Client() as client, ThreadPoolExecutor(4) as pool:
        requests = [intake_request(protocol, job, workers[i % len(workers)]) for i, job in enumerate(jobs)]
        began = time.monotonic()

        def one(i: int) -> None:
            handed[jobs[i].job_id] = time.monotonic()
            assert hand_in(urls[i % 3], requests[i], client).status_code == 202

        for i in range(len(jobs)):
            due = began + i / rate
            while time.monotonic() < due:  # pacing the load generator, not synchronising a test
                time.sleep(min(0.002, max(0.0, due - time.monotonic())))
            pool.submit(one, i)
        pool.shutdown(wait=True)
        wait_for(lambda: len(clock.paid) >= len(jobs), timeout=600, what="the paced jobs paid")
        return [clock.paid[job.job_id] - handed[job.job_id] for job in jobs]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]
