"""The relayed flow's figures: three nodes that take evidence by HTTP, exchange signatures and pay in one
submitAndAttest. Throughput: N bundles handed in by WORKERS_AT_ONCE workers at once (keep-alive connections,
bodies encoded beforehand, one asyncio thread: the client costs little of the CPU the nodes share),
from the first hand-in to the last VerdictReached. Latency: bundles handed in at a steady rate, each
from its hand-in (the node has the evidence) to its WorkerPaid log, seen by one poller every 10 ms.

Each bundle is handed to every node, as the worker app does (worker/remote.py `hand_in`), so the
three verify it side by side; `--one-node-hand-in` gives each bundle to one node only (the others
hear of it with its first signature, one verification later): the figures under `one_node_hand_in`."""

import asyncio
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from oracle_setup import bench_chain, cpu_seconds, job_clock, paced, percentile  # beside this script

from devtools.accounts import OPERATORS, WORKERS, key_of
from devtools.chain import wait_for
from devtools.protocol import Job, Protocol
from devtools.relay import (
    VERIFICATIONS,
    Worker,
    hand_in,
    hire_relayed,
    intake_request,
    relayed_nodes,
    running,
    transactions_from,
)

EVENTS = {"verdict": ("VerificationOracle", "VerdictReached"), "paid": ("JobEscrow", "WorkerPaid")}
WORKERS_AT_ONCE = 16  # workers handing in at once in the throughput phase, each to every node together


def measure_relay(jobs: int, rate: float, workdir: Path, every_node: bool = True) -> dict:
    """Both phases with three relayed nodes (quorum 2); the figures for bench/out/oracle.json."""
    with bench_chain(workdir, OPERATORS, quorum=2) as bench:
        protocol = bench.protocol
        nodes = relayed_nodes(
            workdir,
            bench.rpc,
            bench.deployments,
            bench.aliases,
            intake_per_worker=1000,
            intake_burst_per_worker=1000,
        )
        with running(nodes):
            workers = [Worker(key_of(index)) for index in WORKERS]
            first_block = protocol.w3.eth.block_number + 1
            print(f"  relayed: hiring {2 * jobs} workers by signature...", flush=True)
            backlog = [hire_relayed(protocol, workers[i % len(workers)]) for i in range(jobs)]
            later = [hire_relayed(protocol, workers[i % len(workers)]) for i in range(jobs)]
            urls = [node.intake_url for node in nodes]
            requests = [
                intake_request(protocol, job, workers[i % len(workers)]) for i, job in enumerate(backlog)
            ]
            bodies = [json.dumps(request).encode() for request in requests]
            chosen = [
                list(range(jobs)) if every_node else list(range(n, jobs, len(urls))) for n in range(len(urls))
            ]
            processes = {"nodes": [n.process.pid for n in nodes if n.process], "anvil": [bench.anvil_pid]}
            processes["client"] = [os.getpid()]  # the hand-ins and the log clock
            used = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in processes.items()}
            with job_clock(protocol, EVENTS) as clock:
                start = time.monotonic()
                answers = asyncio.run(_post_all(urls, bodies, chosen))
                # A node that lags may find a job already paid by the other two, before their signatures
                # told it of the evidence: "job ... is PAID, not Accepted", an answer, not a failure.
                refused = [a for a in answers if a[0] != 202 and b"is PAID, not Accepted" not in a[1]]
                assert not refused, refused
                wait_for(lambda: len(clock.seen["paid"]) >= jobs, timeout=600, what="the backlog paid")
                throughput = jobs / (max(clock.seen["verdict"].values()) - start)
            cpu_ms = {
                name: round(1000 * (sum(cpu_seconds(pid) for pid in pids) - used[name]) / jobs, 2)
                for name, pids in processes.items()
            }
            print(f"  relayed: {throughput:.1f} verifications/s", flush=True)
            latencies = _paced(protocol, later, workers, urls, rate, every_node)
            sent = transactions_from(protocol.w3, {protocol.account(i) for i in OPERATORS}, first_block)
    verifications = [tx for tx in sent if tx.function in VERIFICATIONS]
    return {
        "three_node_throughput": round(throughput, 1),
        # CPU per verification in the throughput phase, from the first hand-in until every job was paid:
        # the three nodes together, anvil, the bench client (what bounds the figure on two shared cores)
        "cpu_ms_per_verification": cpu_ms,
        "paid_p50_s": round(statistics.median(latencies), 3),
        "paid_p99_s": round(percentile(latencies, 99), 3),
        "paid_max_s": round(max(latencies), 3),
        "reverted_attestations": sum(1 for tx in verifications if not tx.succeeded),
        "verification_transactions_per_job": round(len(verifications) / (2 * jobs), 3),
        "relayed_jobs": jobs,
        "relayed_rate_per_s": rate,
    }


def _hand_in(urls: list[str], i: int, request: dict, client: httpx.Client, every_node: bool) -> int:
    """The status of handing bundle `i` to every node (the worst answer), or to node i % 3 only."""
    chosen = urls if every_node else [urls[i % len(urls)]]
    return max(hand_in(url, request, client).status_code for url in chosen)


async def _post_all(urls: list[str], bodies: list[bytes], chosen: list[list[int]]) -> list[tuple[int, bytes]]:
    """Hands bodies[i] to urls[n] for each n whose chosen[n] holds i, by WORKERS_AT_ONCE workers at once,
    each with a keep-alive connection per node and handing its bundle to those nodes together; the
    answers' statuses and bodies."""
    statuses: list[tuple[int, bytes]] = []
    todo = list(reversed(range(len(bodies))))  # popped from the end: handed in in order
    wanted = [set(indices) for indices in chosen]

    async def worker() -> None:
        connections = [
            await asyncio.open_connection(urlsplit(url).hostname, urlsplit(url).port) for url in urls
        ]
        try:
            while todo:
                i = todo.pop()
                statuses.extend(
                    await asyncio.gather(
                        *(_post(c, urls[n], bodies[i]) for n, c in enumerate(connections) if i in wanted[n])
                    )
                )
        finally:
            for _, writer in connections:
                writer.close()

    await asyncio.gather(*(worker() for _ in range(WORKERS_AT_ONCE)))
    return statuses


async def _post(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], url: str, body: bytes
) -> tuple[int, bytes]:
    """POSTs `body` to url/v1/evidence over `connection` (HTTP/1.1, kept alive); the answer's status
    and body."""
    reader, writer = connection
    head = f"POST /v1/evidence HTTP/1.1\r\nhost: {urlsplit(url).netloc}\r\ncontent-type: application/json\r\n"
    writer.write(f"{head}content-length: {len(body)}\r\n\r\n".encode() + body)
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        length = int(value) if name.lower() == "content-length" else length
    return status, await reader.readexactly(length)


def _paced(
    protocol: Protocol, jobs: list[Job], workers: list[Worker], urls: list[str], rate: float, every_node: bool
) -> list[float]:
    handed: dict[str, float] = {}
    with job_clock(protocol, EVENTS) as clock, httpx.Client() as client, ThreadPoolExecutor(4) as pool:
        requests = [intake_request(protocol, job, workers[i % len(workers)]) for i, job in enumerate(jobs)]

        def one(i: int) -> None:
            handed[jobs[i].job_id] = time.monotonic()
            assert _hand_in(urls, i, requests[i], client, every_node) == 202

        paced(len(jobs), rate, lambda i: pool.submit(one, i))
        pool.shutdown(wait=True)
        paid = clock.seen["paid"]
        wait_for(lambda: len(paid) >= len(jobs), timeout=600, what="the paced jobs paid")
        return [paid[job.job_id] - handed[job.job_id] for job in jobs]
