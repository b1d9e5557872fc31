"""The app's own index of the chain's jobs (SQLite under the app's home), and the worker's own work:
drafts and hand-ins are written here before anything is sent, so nothing typed is ever lost.

A pass reads the escrow's, the oracle's and the arbitration pool's logs since the last block it saw,
keeps the panel's revealed votes, and re-reads the status of every job a log touched (the chain, never
the logs' order, is the truth). The index is a cache: a lost file is rebuilt from the chain.
"""

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol_core.enums import JobStatus, RulingOption
from protocol_core.events import decode_logs
from protocol_core.terms import JobTerms

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY, terms TEXT NOT NULL, reward INTEGER NOT NULL, language INTEGER NOT NULL,
    expertise TEXT NOT NULL, certifications INTEGER NOT NULL, offered_to TEXT NOT NULL,
    accept_by INTEGER NOT NULL, resolve_by INTEGER NOT NULL, status INTEGER NOT NULL, worker TEXT,
    deadline INTEGER, reason INTEGER, approved INTEGER, dispute_id INTEGER, paid INTEGER, block INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs (status, accept_by);
CREATE INDEX IF NOT EXISTS jobs_worker ON jobs (worker);
CREATE TABLE IF NOT EXISTS votes (
    dispute_id INTEGER NOT NULL, round INTEGER NOT NULL, arbitrator TEXT NOT NULL, choice INTEGER NOT NULL,
    at INTEGER NOT NULL, block INTEGER NOT NULL, log_index INTEGER NOT NULL,
    PRIMARY KEY (dispute_id, round, arbitrator)
);
CREATE TABLE IF NOT EXISTS work (
    job_id TEXT PRIMARY KEY, summary TEXT NOT NULL DEFAULT '', evidence_hash TEXT, uri TEXT,
    bundle TEXT, handed_in_at INTEGER, receipts TEXT, statement TEXT
);
"""
VERSION = "2"  # 2: the pool's revealed votes; an index of an older version is read again from block 0
WORK_FIELDS = {"summary", "evidence_hash", "uri", "bundle", "handed_in_at", "receipts", "statement"}
CHUNK = 5_000  # blocks per eth_getLogs


@dataclass(frozen=True)
class JobRow:
    """One job as the index holds it."""

    job_id: str
    terms: JobTerms
    status: JobStatus
    worker: str | None
    deadline: int | None
    reason: int | None
    approved: bool | None
    dispute_id: int | None
    paid: int | None

    @property
    def reward(self) -> int:
        return self.terms.reward


@dataclass(frozen=True)
class VoteRow:
    """One arbitrator's vote as the pool revealed it (`VoteRevealed`)."""

    round: int
    arbitrator: str
    choice: RulingOption
    at: int  # the block's time


class JobIndex:
    """Jobs and the worker's own work in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._db() as db:
            db.executescript(SCHEMA)
            found = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            if found is None or found["value"] != VERSION:  # every write of a pass is idempotent
                db.execute("DELETE FROM meta WHERE key = 'block'")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (VERSION,))

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:
                yield db
        finally:
            db.close()

    def cursor(self) -> int:
        """The last block read."""
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'block'").fetchone()
        return int(row["value"]) if row else -1

    def add_posted(self, db: sqlite3.Connection, terms: JobTerms, block: int) -> None:
        """A posted job (idempotent)."""
        req = terms.requirements
        db.execute(
            "INSERT OR IGNORE INTO jobs (job_id, terms, reward, language, expertise, certifications,"
            " offered_to, accept_by, resolve_by, status, deadline, block) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                "0x" + terms.digest().hex(),
                terms.model_dump_json(),
                terms.reward,
                req.language,
                str(req.expertise),
                req.certifications,
                terms.offered_to,
                terms.accept_by,
                terms.resolve_by,
                int(JobStatus.OPEN),
                terms.accept_by,
                block,
            ),
        )

    def sync(self, chain: Any) -> int:
        """Reads new logs up to the head and re-reads the jobs they changed; returns how many."""
        with self._lock:
            head = chain.read(lambda: chain.w3.eth.block_number)
            start, changed = self.cursor() + 1, 0
            followed = (chain.addresses.escrow, chain.addresses.oracle, chain.addresses.arbitrator)
            addresses = [address for address in followed if address]
            while start <= head:
                end = min(head, start + CHUNK - 1)
                logs = chain.read(
                    chain.w3.eth.get_logs, {"fromBlock": start, "toBlock": end, "address": addresses}
                )
                touched: set[str] = set()
                events = decode_logs(logs)
                times = {e.block_number: chain.block_time(e.block_number) for e in events
                         if e.name == "VoteRevealed"}  # fmt: skip
                with self._db() as db:
                    for event in events:
                        touched |= self._apply(db, event, times)
                for job_id in touched:  # before the cursor moves: a failed read is read again next pass
                    self.refresh(chain, job_id)
                with self._db() as db:
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('block', ?)", (str(end),))
                changed += len(touched)
                start = end + 1
            return changed

    def _apply(self, db: sqlite3.Connection, event: Any, times: dict[int, int]) -> set[str]:
        if event.name == "JobPosted":  # open by construction: nothing to re-read
            self.add_posted(db, JobTerms.from_event(event["terms"]), event.block_number)
            return set()
        if event.name == "VoteRevealed":
            db.execute(
                "INSERT OR IGNORE INTO votes VALUES (?,?,?,?,?,?,?)",
                (int(event["disputeId"]), int(event["round"]), event["arbitrator"], int(event["choice"]),
                 times[event.block_number], event.block_number, event.log_index),
            )  # fmt: skip
            return set()
        job = event.args.get("jobId")
        if not isinstance(job, bytes):
            return set()
        job_id = "0x" + job.hex()
        if event.name == "VerdictReached":
            db.execute(
                "UPDATE jobs SET reason = ?, approved = ? WHERE job_id = ?",
                (int(event["reason"]), int(event["approved"]), job_id),
            )
        elif event.name == "JobDisputed":
            db.execute("UPDATE jobs SET dispute_id = ? WHERE job_id = ?", (int(event["disputeId"]), job_id))
        elif event.name == "WorkerPaid":
            db.execute("UPDATE jobs SET paid = ? WHERE job_id = ?", (int(event["amount"]), job_id))
        return {job_id}

    def refresh(self, chain: Any, job_id: str) -> None:
        """Re-reads one job's status, worker and deadline from the chain."""
        state = chain.read(chain.escrow.job_state, bytes.fromhex(job_id[2:]))
        worker = None if int(state.worker, 16) == 0 else state.worker
        with self._db() as db:
            db.execute("UPDATE jobs SET status = ?, worker = ?, deadline = ? WHERE job_id = ?",
                       (int(state.status), worker, state.deadline, job_id))  # fmt: skip

    def job(self, job_id: str) -> JobRow | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id.lower(),)).fetchone()
        return _row(row) if row else None

    def open_jobs(self, now: int, languages: set[int], limit: int = 200) -> list[JobRow]:
        """Open jobs not past accept-by in the worker's languages, best paid first."""
        if not languages:
            return []
        marks = ",".join("?" * len(languages))
        with self._db() as db:
            rows = db.execute(
                f"SELECT * FROM jobs WHERE status = 1 AND accept_by >= ? AND language IN ({marks})"
                " ORDER BY reward DESC, accept_by LIMIT ?",
                (now, *sorted(languages), limit),
            ).fetchall()
        return [_row(r) for r in rows]

    def mine(self, worker: str) -> list[JobRow]:
        """Every job this worker took, newest first."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM jobs WHERE worker = ? ORDER BY block DESC", (worker,)).fetchall()
        return [_row(r) for r in rows]

    def votes(self, dispute_id: int) -> list[VoteRow]:
        """The dispute's revealed votes, every round, in the order they were revealed."""
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM votes WHERE dispute_id = ? ORDER BY block, log_index", (dispute_id,)
            ).fetchall()
        return [VoteRow(r["round"], r["arbitrator"], RulingOption(r["choice"]), r["at"]) for r in rows]

    def work(self, job_id: str) -> dict[str, Any]:
        """The worker's draft and hand-in of a job (empty when none)."""
        with self._db() as db:
            row = db.execute("SELECT * FROM work WHERE job_id = ?", (job_id.lower(),)).fetchone()
        found = dict(row) if row else {"job_id": job_id.lower(), "summary": ""}
        found["receipts"] = json.loads(found["receipts"]) if found.get("receipts") else []
        return found

    def save_work(self, job_id: str, **values: Any) -> None:
        """Keeps the draft or the hand-in (before it is sent anywhere)."""
        if not set(values) <= WORK_FIELDS:
            raise ValueError(f"unknown work fields {sorted(set(values) - WORK_FIELDS)}")
        if "receipts" in values:
            values["receipts"] = json.dumps(values["receipts"])
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO work (job_id) VALUES (?)", (job_id.lower(),))
            for name, value in values.items():
                db.execute(f"UPDATE work SET {name} = ? WHERE job_id = ?", (value, job_id.lower()))


def _row(row: sqlite3.Row) -> JobRow:
    return JobRow(
        job_id=row["job_id"],
        terms=JobTerms.model_validate_json(row["terms"]),
        status=JobStatus(row["status"]),
        worker=row["worker"],
        deadline=row["deadline"],
        reason=row["reason"],
        approved=None if row["approved"] is None else bool(row["approved"]),
        dispute_id=row["dispute_id"],
        paid=row["paid"],
    )
