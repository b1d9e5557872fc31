"""The cursor's handler: facts in, the read model folded forward; after a reorg, the orphaned facts out
and the entities they touched folded again from the facts that remain."""

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, select

from runtime.chain import Log

from .facts import Fact, Kind, decode
from .fold import Row, fold
from .tables import arbitrators, disputes, facts, jobs, operators, seats, worker_changes, workers
from .views import SNAPSHOT_POSITION, Views

TABLES: dict[Kind, tuple[Table, str]] = {
    Kind.WORKER: (workers, "address"),
    Kind.JOB: (jobs, "job_id"),
    Kind.OPERATOR: (operators, "address"),
    Kind.ARBITRATOR: (arbitrators, "address"),
    Kind.DISPUTE: (disputes, "dispute_id"),
}
BATCH = 500  # keys per IN (...) list


class ReadModelLogs:
    """Decodes the protocol's logs into facts and keeps the read model (a runtime LogHandler)."""

    def __init__(self, contracts: dict[str, str], views: Views) -> None:
        self._by_address = {address.lower(): name for name, address in contracts.items() if address}
        self._views = views

    def decode(self, log: Log) -> Fact | None:
        """The fact in `log`; None for an event the read model does not fold."""
        return decode(log, self._by_address[log.address.lower()])

    def ingest(self, db: Connection, events: list[Fact | None]) -> int:
        """Stores the range's facts and folds them into the rows they touch; returns how many."""
        new = self._views.with_deadlines([f for f in events if f is not None])
        new += self._views.snapshots(new)
        if not new:
            return 0
        positions: dict[int, int] = defaultdict(int)
        records = []
        for fact in new:
            position = SNAPSHOT_POSITION if fact.name == "Snapshot" else positions[fact.block]
            positions[fact.block] += 1
            records.append({"block": fact.block, "position": position, "kind": fact.kind, "key": fact.key,
                            "name": fact.name, "args": json.dumps(fact.args)})  # fmt: skip
        db.execute(facts.insert(), records)
        grouped: dict[Kind, dict[str, list[Fact]]] = defaultdict(lambda: defaultdict(list))
        for fact in sorted(new, key=lambda f: (f.block, f.name == "Snapshot")):
            grouped[fact.kind][fact.key].append(fact)
        for kind, by_key in grouped.items():
            stored = _load(db, kind, list(by_key))
            _write(
                db,
                kind,
                list(by_key),
                {key: fold(kind, key, stored.get(key), fs) for key, fs in by_key.items()},
            )
        return len(new)

    def orphaned(self, db: Connection, after: int) -> None:
        """Deletes the facts of blocks above `after` and refolds every entity they touched."""
        touched: dict[Kind, list[str]] = defaultdict(list)
        for kind, key in db.execute(
            select(facts.c.kind, facts.c.key).where(facts.c.block > after).distinct()
        ):
            touched[Kind(kind)].append(key)
        db.execute(delete(facts).where(facts.c.block > after))
        for kind, keys in touched.items():
            rows: dict[str, Row | None] = {}
            for part in _parts(keys):
                remaining = db.execute(
                    select(facts).where(facts.c.kind == kind).where(facts.c.key.in_(part))
                    .order_by(facts.c.block, facts.c.position, facts.c.id)
                ).all()  # fmt: skip
                by_key: dict[str, list[Fact]] = defaultdict(list)
                for r in remaining:
                    by_key[r.key].append(Fact(kind, r.key, r.name, json.loads(r.args), r.block, ""))
                rows |= {key: fold(kind, key, None, by_key.get(key, [])) for key in part}
            _write(db, kind, keys, rows)


def _parts(keys: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(keys), BATCH):
        yield keys[start : start + BATCH]


def _load(db: Connection, kind: Kind, keys: list[str]) -> dict[str, Row]:
    table, column = TABLES[kind]
    loaded: dict[str, Row] = {}
    for part in _parts(keys):
        for row in db.execute(select(table).where(table.c[column].in_(part))):
            loaded[row._mapping[column]] = dict(row._mapping)
        if kind == Kind.DISPUTE:
            for key in part:
                if key in loaded:
                    loaded[key]["seats"] = []
            for seat in db.execute(select(seats).where(seats.c.dispute_id.in_(part)).order_by(seats.c.seat)):
                loaded[seat.dispute_id]["seats"].append(dict(seat._mapping))
    return loaded


def _write(db: Connection, kind: Kind, keys: list[str], rows: dict[str, Row | None]) -> None:
    """Replaces the rows of `keys` by `rows` (None: no row)."""
    table, column = TABLES[kind]
    for part in _parts(keys):
        db.execute(delete(table).where(table.c[column].in_(part)))
        if kind == Kind.DISPUTE:
            db.execute(delete(seats).where(seats.c.dispute_id.in_(part)))
    present: list[dict[str, Any]] = [row for row in rows.values() if row is not None]
    if kind == Kind.DISPUTE:
        seated = [seat for row in present for seat in row["seats"]]
        present = [{k: v for k, v in row.items() if k != "seats"} for row in present]
        if seated:
            db.execute(seats.insert(), seated)
    if present:
        db.execute(table.insert(), present)
    if kind == Kind.WORKER:  # removed rows too: a reorg may undo a registration
        db.execute(worker_changes.insert(), [{"address": key} for key in keys])
