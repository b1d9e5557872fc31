"""The learning loop: a resolved new problem stops being novel; training data is redacted."""

import json
import subprocess
import sys
from pathlib import Path

from escalation.config import build_config
from escalation.engine import EscalationEngine
from escalation.evaluate import load_known_issue_rows
from escalation.learning import AutonomyTracker, Resolution, training_record
from escalation.models import Ticket, Trigger

KNOWN = Path(__file__).resolve().parents[2] / "escalation" / "corpus" / "known_issues.jsonl"
NEW = [
    "Since the last firmware update my watch battery drains overnight, even in airplane mode.",
    "After the firmware update the battery of my watch drains overnight, airplane mode does not help.",
    "My watch battery drains overnight after the firmware update, airplane mode or not.",
]


def ticket(text: str) -> Ticket:
    return Ticket.model_validate(
        {"language": "en", "messages": [{"role": "customer", "text": text, "ts": 1}], "agent_confidence": 0.9}
    )


def test_new_problem_is_known_after_promote_after_resolutions() -> None:
    engine = EscalationEngine(build_config(), load_known_issue_rows())
    assert Trigger.NOVEL in engine.decide(ticket(NEW[0])).triggers
    promoted = [
        engine.learn(
            Resolution(
                ticket=ticket(t),
                triggers=(Trigger.NOVEL,),
                summary="Firmware 5.2 bug: roll back.",
                verdict="approved",
                resolved_at=2,
            )
        )
        for t in NEW
    ]
    assert promoted == [False, False, True]
    assert Trigger.NOVEL not in engine.decide(ticket(NEW[0])).triggers


def test_training_record_is_redacted() -> None:
    resolution = Resolution(
        ticket=ticket("Mail me at a@b.com"),
        triggers=(Trigger.NOVEL,),
        summary="Called +1 415 555 0132",
        verdict="approved",
        resolved_at=5,
    )
    record = training_record(resolution)
    assert record["conversation"][0]["text"] == "Mail me at [EMAIL]"
    assert record["resolution"] == "Called [PHONE]"
    assert record["redactions"] == {"email": 1, "phone": 1}


def test_autonomy_per_day_and_week() -> None:
    tracker = AutonomyTracker()
    for ts, escalated in ((0, True), (10, False), (86_400, False)):
        tracker.record(ts, escalated)
    assert [d["autonomous_rate"] for d in tracker.per_day()] == [0.5, 1.0]
    assert tracker.per_week()[0]["tickets"] == 3


def test_problem_learned_in_english_is_known_in_spanish() -> None:
    engine = EscalationEngine(build_config(), load_known_issue_rows())
    english = [
        "The invoice page shows another customer's invoices with their company address.",
        "On the invoice page I can see invoices of another customer.",
        "My invoice page lists invoices that belong to another customer.",
    ]
    spanish = ticket("La página de facturas muestra las facturas de otro cliente.")
    assert Trigger.NOVEL in engine.decide(spanish).triggers
    for text in english:
        engine.learn(
            Resolution(
                ticket=ticket(text),
                triggers=(Trigger.NOVEL,),
                summary="Cache key bug on the invoice page; fixed in release 4.1.",
                verdict="approved",
                resolved_at=2,
            )
        )
    assert engine.learning.promoted == 1
    assert Trigger.NOVEL not in engine.decide(spanish).triggers


def _resolution_line(text: str, ts: int) -> str:
    return Resolution(
        ticket=ticket(text), triggers=(Trigger.NOVEL,), summary="Firmware 5.2 bug: roll back.",
        verdict="approved", resolved_at=ts,
    ).model_dump_json()  # fmt: skip


def test_learn_and_export_commands_close_the_loop(tmp_path: Path) -> None:
    """`escalation learn` grows the knowledge base from the resolution log, `decide` over the grown file
    no longer calls the problem novel, and `escalation export` writes redacted training lines."""
    log = tmp_path / "resolutions.jsonl"
    lines = [_resolution_line(text + " Write to me at ana@example.org", i) for i, text in enumerate(NEW)]
    log.write_text("\n".join([*lines, "not json"]) + "\n")
    grown = tmp_path / "grown.jsonl"
    cli = [sys.executable, "-m", "escalation.cli"]
    learned = subprocess.run(
        [*cli, "learn", "--known-issues", str(KNOWN), "--out", str(grown), str(log)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    report = json.loads(learned.stdout)
    assert learned.returncode == 1 and report["resolutions"] == 3 and report["bad_lines"][0]["line"] == 4
    assert report["learned_issues"] == 4  # three openings and the worker's summary
    issues = [json.loads(line) for line in grown.read_text().splitlines()]
    assert len(issues) == len(load_known_issue_rows()) + 4
    assert all("ana@example.org" not in issue["text"] for issue in issues)
    probe = ticket("My watch battery is empty every morning since the firmware update, airplane mode on.")
    # the grown file read as `decide --known-issues` reads it (from_files), in process: cheaper
    decided = [EscalationEngine.from_files(kb).decide(probe).triggers for kb in (KNOWN, grown)]
    assert decided == [(Trigger.NOVEL,), ()]
    exported = subprocess.run([*cli, "export", str(log)], capture_output=True, text=True, check=False)
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert exported.returncode == 1 and records[-1]["line"] == 4
    assert [r["schema"] for r in records[:3]] == ["escalation.training/1"] * 3
    assert records[0]["redactions"] == {"email": 1} and "[EMAIL]" in records[0]["conversation"][0]["text"]
