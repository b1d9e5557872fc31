"""`escalation decide`, `escalation dry-run` and `escalation export`: JSON lines in, JSON lines out."""

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

import click

from .engine import EscalationEngine
from .errors import EscalationError, TicketError
from .learning import Resolution, training_record
from .models import Action, Decision
from .redact import redact
from .ticket_io import decision_record, dumps, error_record, parse_line, parse_ticket

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _engine(known_issues: Path | None, config: Path | None) -> EscalationEngine:
    try:
        return EscalationEngine.from_files(known_issues, config)
    except EscalationError as exc:
        raise click.UsageError(str(exc)) from None


def _decisions(engine: EscalationEngine, source: TextIO) -> "list[tuple[int, Decision | TicketError]]":
    out: list[tuple[int, Decision | TicketError]] = []
    for number, line in enumerate(source, start=1):
        try:
            out.append((number, engine.decide(parse_ticket(line, number))))
        except TicketError as exc:
            out.append((number, exc))
    return out


@click.group()
def main() -> None:
    """Decide which support tickets go to a paid human specialist."""


@main.command("decide")
@click.option("--known-issues", type=_FILE, required=True, help="JSONL of known issues, each with a `text`")
@click.option("--config", type=_FILE, help="TOML overriding the shipped defaults")
def decide_command(known_issues: Path, config: Path | None) -> None:
    """Read tickets as JSON lines on stdin; write one decision (or error object) per line.

    Exits 1 when any line was bad: its output line is {"line": N, "error": "..."} and the rest go on.
    """
    engine = _engine(known_issues, config)
    bad = 0
    for number, line in enumerate(sys.stdin, start=1):
        try:
            record = decision_record(engine.decide(parse_ticket(line, number)))
        except TicketError as exc:
            bad += 1
            record = error_record(number, exc)
        sys.stdout.write(dumps(record) + "\n")
        sys.stdout.flush()
    if bad:
        click.echo(f"{bad} bad input line(s); see the error objects in the output", err=True)
        sys.exit(1)


@main.command("dry-run")
@click.option("--known-issues", type=_FILE, required=True, help="JSONL of known issues, each with a `text`")
@click.option("--config", type=_FILE, help="TOML overriding the shipped defaults")
@click.argument("tickets", type=click.File("r", encoding="utf-8"), default="-")
def dry_run_command(known_issues: Path, config: Path | None, tickets: TextIO) -> None:
    """Report what would have been escalated over a batch of past tickets (JSONL file or stdin)."""
    engine = _engine(known_issues, config)
    results = _decisions(engine, tickets)
    decisions = [d for _, d in results if isinstance(d, Decision)]
    actions = Counter(d.action.value for d in decisions)
    triggers = Counter(t.value for d in decisions for t in d.triggers)
    escalated = [
        {"line": n, "ticket_id": d.ticket_id, "triggers": [t.value for t in d.triggers]}
        for n, d in results
        if isinstance(d, Decision) and d.action is Action.ESCALATE
    ]
    report = {
        "tickets": len(decisions),
        "bad_lines": [n for n, d in results if isinstance(d, TicketError)],
        "actions": dict(actions),
        "triggers": dict(triggers),
        "escalation_rate": round(actions[Action.ESCALATE.value] / max(1, len(decisions)), 4),
        "escalated": escalated,
    }
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))


def _resolutions(source: TextIO) -> "tuple[list[Resolution], list[dict[str, object]]]":
    good: list[Resolution] = []
    bad: list[dict[str, object]] = []
    for number, line in enumerate(source, start=1):
        try:
            good.append(parse_line(line, number, Resolution, "resolution"))
        except TicketError as exc:
            bad.append(error_record(number, exc))
    return good, bad


@main.command("export")
@click.argument("resolutions", type=click.File("r", encoding="utf-8"), default="-")
def export_command(resolutions: TextIO) -> None:
    """Verified resolutions (JSONL) -> training data (JSONL, schema escalation.training/1), redacted.

    Exits 1 when any line was bad: its output line is {"line": N, "error": "..."} and the rest go on.
    """
    good, bad = _resolutions(resolutions)
    for resolution in good:
        sys.stdout.write(dumps(training_record(resolution)) + "\n")
    for record in bad:
        sys.stdout.write(dumps(record) + "\n")
    if bad:
        click.echo(f"{len(bad)} bad input line(s); see the error objects in the output", err=True)
        sys.exit(1)


@main.command("learn")
@click.option("--known-issues", type=_FILE, required=True, help="the base knowledge base (JSONL with `text`)")
@click.option("--config", type=_FILE, help="TOML overriding the shipped defaults")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="grown JSONL")
@click.argument("resolutions", type=click.File("r", encoding="utf-8"), default="-")
def learn_command(known_issues: Path, config: Path | None, out: Path, resolutions: TextIO) -> None:
    """Replay the whole log of verified resolutions over the base knowledge base; write base + learned.

    A new problem resolved `novelty.promote_after` times becomes known issues (texts redacted), so
    `decide --known-issues OUT` no longer escalates it as novel. The log is the loop's only state: pass
    all of it each time, with the base file (not an earlier OUT) as --known-issues.
    """
    engine = _engine(known_issues, config)
    good, bad = _resolutions(resolutions)
    for resolution in sorted(good, key=lambda r: r.resolved_at):
        engine.learn(resolution)
    base = [(issue_id, text) for issue_id, text in engine.known_issues.items()]
    learned = {issue_id for issue_id, _ in engine.learning.learned}
    with out.open("w", encoding="utf-8") as sink:
        for issue_id, text in base:
            shown = redact(text)[0] if issue_id in learned else text
            sink.write(dumps({"id": issue_id, "text": shown}) + "\n")
    report = {"resolutions": len(good), "bad_lines": bad, "learned_issues": len(learned), "wrote": str(out)}
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
