"""Interim: the run's figures as a plain summary (replaced by escalation.report)."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Interim:
    figures: dict[str, Any]

    def show(self, console: Any) -> None:
        console.print_json(json.dumps(self.figures, default=str))

    def write(self, out: Path) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        path = out / "report.json"
        path.write_text(json.dumps(self.figures, indent=2, default=str))
        return [path]


def build_report(record: Any, ledger: Any, operation: Any, **_: Any) -> Interim:
    hub = operation.hub
    statuses = {e.desk_id: hub.latest(e.desk_id) for e in record.escalated}
    return Interim({
        "tickets": record.tickets, "escalated": len(record.escalated), "triggers": dict(record.triggers),
        "statuses": {s: list(statuses.values()).count(s) for s in set(statuses.values())},
        "ledger": vars(ledger) | {"gas_per_paid_job": ledger.gas_per_paid_job[:5]},
        "per_week": record.tracker.per_week(), "dispute": record.dispute, "skipped_s": record.skipped_s,
        "wall_s": record.wall_s,
        "refused": [w.refused for w in operation.crew.work.values() if w.refused][:5],
        "work": [vars(w) for w in list(operation.crew.work.values())[:3]], "learned": record.learned,
    })
