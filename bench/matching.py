"""Matching: 500 jobs against 5,000 workers as one assignment, and one job ranked; writes
bench/out/matching.json. Synthetic, seeded workers and jobs; no chain.

`single_job_ms` ranks straight from the indexer's records as the desk does: the 5,000 workers are
folded into an indexer database (SQLite, the indexer's own write path), and before each ranking one
worker's row changes (a WorkRecorded fact); the cached pool (LivePool) reads the change log, reloads
that row and ranks. The pool held in memory without any database is `single_job_in_memory_ms`.
"""

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

# this file's folder would shadow the `escalation` package it measures
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from escalation.matching.assign import assign, greedy  # noqa: E402
from escalation.matching.model import JobNeed, Signals  # noqa: E402
from escalation.matching.pool import Pool  # noqa: E402
from escalation.matching.score import ScoreWeights  # noqa: E402
from escalation.matching.source import LivePool  # noqa: E402
from indexer.facts import Fact, Kind  # noqa: E402
from indexer.queries import ReadModel, Worker  # noqa: E402
from indexer.store import ReadModelLogs  # noqa: E402
from indexer.tables import metadata as indexer_tables  # noqa: E402
from indexer.views import Views  # noqa: E402
from runtime.db import connect, transaction  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "matching.json"
WORKERS, JOBS, RUNS, SINGLE_RUNS = 5_000, 500, 5, 200


KEY = "0x" + "11" * 32  # every simulated worker's X25519 key: matching never reads it


def population(rng: random.Random) -> tuple[list[Worker], dict[str, Signals], list[JobNeed]]:
    """Workers speaking 1-3 of 8 languages (English most), 16 expertise and 4 certification bits."""
    workers, signals = [], {}
    for i in range(WORKERS):
        languages = 1 if rng.random() < 0.6 else 0
        for _ in range(rng.randint(1, 2)):
            languages |= 1 << rng.randrange(8)
        capacity = rng.randint(1, 5)
        address = f"0x{i + 1:040x}"
        workers.append(Worker(
            address, languages, rng.getrandbits(16), rng.getrandbits(4) & rng.getrandbits(4), capacity,
            rng.randint(0, capacity), rng.random() < 0.85, rng.randint(0, 400), rng.randint(0, 8),
            rng.randint(0, 4), KEY, "ipfs://w",
        ))  # fmt: skip
        if rng.random() < 0.7:
            signals[address] = Signals(rng.uniform(5, 300), rng.choice([-8, -5, 0, 1, 2, 5.5, 8, 9]))
    jobs = [
        JobNeed(0 if rng.random() < 0.5 else rng.randrange(8),
                1 << rng.randrange(16) | 1 << rng.randrange(16), rng.choice([0, 0, 0, 1, 2]), None,
                rng.choice([None, -5, 1, 8]))
        for _ in range(JOBS)
    ]  # fmt: skip
    return workers, signals, jobs


def facts_of(workers: list[Worker]) -> list[Fact]:
    """The registry's events that leave these workers in the indexer's read model, all in block 1."""
    found = []
    for w in workers:
        events = [
            ("WorkerRegistered", {"languages": w.languages, "expertise": w.expertise,
                                  "maxConcurrent": w.max_concurrent, "encryptionKey": w.encryption_key,
                                  "profileURI": w.profile_uri}),
            ("AvailabilityChanged", {"available": w.available}),
            ("CertificationsChanged", {"certifications": w.certifications}),
            ("WorkRecorded", {"activeJobs": w.active_jobs, "completed": w.completed,
                              "missedDeadlines": w.missed_deadlines, "disputesLost": w.disputes_lost}),
        ]  # fmt: skip
        found += [Fact(Kind.WORKER, w.address, name, args, 1, "0x" + "00" * 32) for name, args in events]
    return found


def from_indexer(workers: list[Worker], signals: dict[str, Signals], jobs: list[JobNeed],
                 weights: ScoreWeights, rng: random.Random) -> dict[str, float]:  # fmt: skip
    """Ranks from the indexer's records through the cached pool, one worker changed before each ranking."""
    with tempfile.TemporaryDirectory() as folder:
        engine = connect(f"sqlite:///{folder}/indexer.db", indexer_tables)
        logs = ReadModelLogs({}, Views(None, {}, 0))  # type: ignore[arg-type]  # worker facts read no views
        with transaction(engine) as db:
            logs.ingest(db, facts_of(workers))  # type: ignore[arg-type]
        live = LivePool(ReadModel(engine))
        start = time.perf_counter()
        live.pool(signals).rank(jobs[0], weights)
        cold = time.perf_counter() - start
        timed = []
        for i in range(SINGLE_RUNS):
            w = workers[rng.randrange(WORKERS)]
            change = {"activeJobs": rng.randint(0, w.max_concurrent), "completed": w.completed + i,
                      "missedDeadlines": w.missed_deadlines, "disputesLost": w.disputes_lost}  # fmt: skip
            with transaction(engine) as db:  # the indexer's write, not timed
                logs.ingest(db, [Fact(Kind.WORKER, w.address, "WorkRecorded", change, 2 + i, "0x")])  # type: ignore[list-item]
            start = time.perf_counter()
            live.pool(signals).rank(jobs[i % JOBS], weights)  # top 20 with reasons
            timed.append(time.perf_counter() - start)
        engine.dispose()
    return {
        "single_job_ms": round(statistics.median(timed) * 1000, 2),
        "single_job_p95_ms": round(sorted(timed)[int(0.95 * len(timed))] * 1000, 2),
        "single_job_first_load_ms": round(cold * 1000, 2),
    }


def main() -> None:
    workers, signals, jobs = population(random.Random(12))
    weights = ScoreWeights()
    batch = []
    for _ in range(RUNS):
        start = time.perf_counter()
        pool = Pool(workers, signals)  # building the columns counts: a batch starts from records
        result = assign(pool, jobs, weights)
        batch.append(time.perf_counter() - start)
    baseline = greedy(pool, pool.scores(jobs, weights))
    single = []
    for i in range(SINGLE_RUNS):
        start = time.perf_counter()
        pool.rank(jobs[i % JOBS], weights)  # top 20 with reasons, over all 5,000 workers
        single.append(time.perf_counter() - start)
    start = time.perf_counter()
    Pool(workers, signals).rank(jobs[0], weights)
    cold = time.perf_counter() - start
    indexed = from_indexer(workers, signals, jobs, weights, random.Random(13))
    out = {
        "workers": WORKERS, "jobs": JOBS,
        "batch_500x5000_s": round(statistics.median(batch), 3), "batch_runs_s": [round(b, 3) for b in batch],
        "batch_matched": sum(w is not None for w in result.workers), "batch_total": round(result.total, 3),
        "greedy_matched": sum(w is not None for w in baseline.workers),
        "greedy_total": round(baseline.total, 3),
        **indexed,
        "single_job_in_memory_ms": round(statistics.median(single) * 1000, 2),
        "single_job_in_memory_p95_ms": round(sorted(single)[int(0.95 * len(single))] * 1000, 2),
        "single_job_with_pool_build_ms": round(cold * 1000, 2),
        "goals": {"batch_500x5000_s": 1.0, "single_job_ms": 10.0},
    }  # fmt: skip
    merged = json.loads(OUT.read_text()) if OUT.exists() else {}  # keeps bench/time_to_accept.py's figures
    merged.update(out)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(merged, indent=2) + "\n")
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
