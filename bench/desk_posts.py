"""The desk daemon on a local anvil: escalations posted per second through its HTTP API (`posts_per_s`),
and its resident memory with 10,000 open jobs in its database and the follow loop running
(`rss_mb_10k_open_jobs`); merged into bench/out/desk.json."""

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

# this file's folder would shadow the `escalation` package it measures
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from devtools.accounts import AGENT, key_of  # noqa: E402
from devtools.chain import Anvil, rpc_call, wait_for  # noqa: E402
from devtools.desk import API_KEY, DeskDaemon  # noqa: E402
from devtools.protocol import Protocol, deploy  # noqa: E402
from escalation.desk.requests import EscalationRequest  # noqa: E402
from escalation.desk.sdk import DeskClient  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "desk.json"
POSTS, OPEN_JOBS = 200, 10_000


def ticket(n: int) -> EscalationRequest:
    return EscalationRequest(
        ticket_ref=f"T-{n}", language="en", issue="Charged twice; mail me at jane@example.com",
        acceptance_criteria=("The duplicate charge is refunded",), reward=20_000_000,
        accept_within_s=86_400, resolve_within_s=86_400,
    )  # fmt: skip


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        anvil = Anvil(work)
        anvil.start()
        try:
            deployments = work / "deployments.json"
            addresses = deploy(anvil.url, deployments)
            Protocol.connect(anvil.url, addresses, work / "evidence").set_up()
            limits = {"max_reward": 10**9, "daily_budget": 10**15, "approval_threshold": 10**9}
            desk = DeskDaemon(work, anvil.url, deployments, key_of(AGENT), poll=0.25, **limits).start()
            client = DeskClient(desk.url, API_KEY)
            start = time.perf_counter()
            for n in range(POSTS):
                client.escalate(ticket(n))
            posts_per_s = POSTS / (time.perf_counter() - start)
            wait_for(lambda: all(v.status == "open" for v in client.jobs(POSTS)), 120, "posts to be open")
            desk.stop()
            clone_open_jobs(work / "desk.db", OPEN_JOBS)
            desk.start()
            head = int(rpc_call(anvil.url, "eth_blockNumber"), 16)
            rpc_call(anvil.url, "anvil_mine", 20)
            wait_for(lambda: cursor(desk) >= head + 20, 120, "the desk to follow 20 new blocks")
            assert desk.process is not None
            rss = rss_mb(desk.process.pid)
            desk.stop()
        finally:
            anvil.kill()
    figures = json.loads(OUT.read_text()) if OUT.exists() else {}
    figures.update({"posts_per_s": round(posts_per_s, 1), "posts": POSTS,
                    "rss_mb_10k_open_jobs": round(rss, 1)})  # fmt: skip
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


def clone_open_jobs(database: Path, total: int) -> None:
    """Fills the desk's database up to `total` open jobs by copying a posted one under new ids."""
    with sqlite3.connect(database) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(desk_jobs)")]
        template = dict(zip(columns, db.execute("SELECT * FROM desk_jobs LIMIT 1").fetchone(), strict=True))
        have = db.execute("SELECT count(*) FROM desk_jobs").fetchone()[0]
        rows = []
        for n in range(total - have):
            row = dict(template, desk_id=f"esc-bench{n:011d}", job_id="0x" + f"{n:064x}", ticket_ref=f"B-{n}")
            rows.append(tuple(row[c] for c in columns))
        marks = ",".join("?" * len(columns))
        db.executemany(f"INSERT INTO desk_jobs ({','.join(columns)}) VALUES ({marks})", rows)


def cursor(desk: DeskDaemon) -> int:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{desk.port}/metrics", timeout=2) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("desk_cursor_block "):
                return int(float(line.split()[1]))
    return -1


if __name__ == "__main__":
    main()
