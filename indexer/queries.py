"""The read-only Python API over the read model: what the desk, the worker tools and the arbitrator
client ask instead of scanning logs."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from protocol_core.enums import RoundPhase
from runtime.tables import cursor

from .tables import arbitrators, disputes, jobs, operators, seats, worker_changes, workers

AMOUNTS = {"reward", "oracle_fee", "protocol_fee", "paid", "refunded", "stake", "locked", "unstaking",
           "rewards", "queued_in", "queued_out", "expertise"}  # fmt: skip


@dataclass(frozen=True)
class Worker:
    """A registered worker as the registry holds it, at the indexer's block."""

    address: str
    languages: int
    expertise: int
    certifications: int
    max_concurrent: int
    active_jobs: int
    available: bool
    completed: int
    missed_deadlines: int
    disputes_lost: int
    encryption_key: str
    profile_uri: str


@dataclass(frozen=True)
class WorkerChanges:
    """What `ReadModel.worker_changes` found in the indexer's log of worker writes."""

    last: int  # the last seq written (0: none)
    addresses: list[str]  # written after the seq asked about
    at: str | None  # the address logged at the seq asked about; None when there is no such row
    at_last: str | None  # the address logged at `last`


class ReadModel:
    """Queries of the indexer's database; never writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def block(self) -> int | None:
        """The last block whose events are in the read model."""
        with self.engine.connect() as db:
            return db.execute(select(cursor.c.number)).scalar()

    def worker(self, address: str) -> Worker | None:
        """One worker by address."""
        found = self.workers(addresses=[address])
        return found[0] if found else None

    def workers(
        self, *, language: int | None = None, available: bool | None = None,
        addresses: list[str] | None = None,
        limit: int | None = None, offset: int = 0,
    ) -> list[Worker]:  # fmt: skip
        """Registered workers, by address; filtered by a spoken language bit and availability."""
        query = select(workers).where(workers.c.max_concurrent > 0).order_by(workers.c.address)
        if addresses is not None:
            query = query.where(workers.c.address.in_([a.lower() for a in addresses]))
        if available is not None:
            query = query.where(workers.c.available.is_(available))
        if language is not None:
            query = query.where(workers.c.languages.op("&")(1 << language) != 0)
        query = query.offset(offset).limit(limit) if limit is not None else query.offset(offset)
        with self.engine.connect() as db:
            rows = db.execute(query).all()
        return [Worker(**{k: v for k, v in _public(r._mapping).items() if k != "block"}) for r in rows]

    def worker_changes(self, after: int = 0) -> WorkerChanges:
        """The log of worker writes after seq `after`: the addresses written (removed ones too), the
        last seq, and the addresses logged at `after` and at the last seq (a reader's fingerprint)."""
        log = worker_changes.c
        with self.engine.connect() as db:
            last = db.execute(select(func.max(log.seq))).scalar() or 0
            at = {s: a for s, a in db.execute(select(log.seq, log.address).where(log.seq.in_([after, last])))}
            found = db.execute(
                select(log.address).where(log.seq > after).where(log.seq <= last).distinct()
            ).scalars().all() if last > after else []  # fmt: skip
        return WorkerChanges(last, list(found), at.get(after), at.get(last))

    def job(self, job_id: str) -> dict[str, Any] | None:
        """One job: terms, status, worker, deadline, money."""
        found = self.jobs(job_ids=[job_id])
        return found[0] if found else None

    def jobs(
        self, *, status: int | None = None, agent: str | None = None, worker: str | None = None,
        job_ids: list[str] | None = None, limit: int = 1_000, offset: int = 0,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Jobs in posting order, filtered by status, agent or worker."""
        query = select(jobs).order_by(jobs.c.posted_block, jobs.c.job_id).offset(offset).limit(limit)
        if status is not None:
            query = query.where(jobs.c.status == status)
        if agent is not None:
            query = query.where(jobs.c.agent == agent.lower())
        if worker is not None:
            query = query.where(jobs.c.worker == worker.lower())
        if job_ids is not None:
            query = query.where(jobs.c.job_id.in_([j.lower() for j in job_ids]))
        with self.engine.connect() as db:
            return [_public(r._mapping) for r in db.execute(query)]

    def operators(self) -> list[dict[str, Any]]:
        """Every operator the oracle ever had, with stake and status."""
        with self.engine.connect() as db:
            return [
                _public(r._mapping) for r in db.execute(select(operators).order_by(operators.c.mask_index))
            ]

    def arbitrators(self) -> list[dict[str, Any]]:
        """Every arbitrator of the pool, with stakes, locks and queued changes."""
        with self.engine.connect() as db:
            return [
                _public(r._mapping) for r in db.execute(select(arbitrators).order_by(arbitrators.c.address))
            ]

    def dispute(self, dispute_id: int, now: int | None = None) -> dict[str, Any] | None:
        """A dispute with its rounds' seats; with `now`, the phase that time has brought (reveal, tally)."""
        with self.engine.connect() as db:
            row = db.execute(select(disputes).where(disputes.c.dispute_id == str(dispute_id))).first()
            if row is None:
                return None
            panel = db.execute(
                select(seats)
                .where(seats.c.dispute_id == str(dispute_id))
                .order_by(seats.c.round, seats.c.seat)
            ).all()
        found = _public(row._mapping) | {"seats": [dict(s._mapping) for s in panel]}
        if now is not None and found["phase"] == RoundPhase.COMMIT and now > found["commit_end"]:
            found["phase"] = RoundPhase.REVEAL if now <= found["reveal_end"] else RoundPhase.TALLY
        return found

    def counts(self) -> dict[str, int]:
        """Rows per table, for /v1/status and the bench."""
        with self.engine.connect() as db:
            return {
                t.name: int(db.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (workers, jobs, operators, arbitrators, disputes)
            }


def _public(row: Any) -> dict[str, Any]:
    """Amounts (stored as decimal text) back to ints; language bits back to unsigned."""
    found = {k: (int(v) if k in AMOUNTS and v is not None else v) for k, v in dict(row).items()}
    if found.get("languages", 0) < 0:
        found["languages"] += 2**64
    return found
