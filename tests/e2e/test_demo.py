"""`make demo`'s program, run small as a real process: a short ticket stream through the engine, the
desk, the specialists, the oracle nodes and the arbitrators' daemons, ending in the manager's report.
What the report says is checked against itself and the chain's facts it quotes; nothing is left
running."""

import json
from pathlib import Path

from devtools.protocol import run_ape
from escalation.report import read_report


def test_demo_runs_an_operation_to_its_report_and_leaves_nothing_running(tmp_path):
    out = tmp_path / "demo-out"
    result = run_ape(
        "run", "demo", "--network", "polygon:local:foundry", "--tickets", "90", "--days", "3",
        "--seed", "11", "--out", str(out), timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = read_report(out / "report.json")
    tickets = report.tickets
    assert tickets.total == 90 and tickets.handled_by_ai + tickets.escalated == 90
    assert tickets.escalated > 0 and tickets.resolved > 0
    assert tickets.resolved + tickets.refunded == tickets.escalated  # every job ended
    assert len(report.gas.per_paid_ticket) == tickets.resolved
    assert all(gas < 400_000 for gas in report.gas.per_paid_ticket)  # post + relayed accept + one payout
    assert report.money.rewards_paid > 0
    (dispute,) = report.disputes  # the customer's complaint, ruled by the drawn arbitrators
    assert dispute.opened_by == "agent" and dispute.ruling.value == "refund_agent"
    assert report.money.slashes > 0  # the oracles that approved it lose part of their stake
    notes = " ".join(report.notes)
    assert "0 reverted" in notes and "the specialists sent 0" in notes
    assert "3 opened the case file" in notes
    assert "per_week" not in json.loads((out / "report.json").read_text())  # the report's own format
    html = (out / "report.html").read_text()
    assert html.count("<svg") >= 4 and "specialist step(s) failed" not in html
    assert "the support manager's report" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
    work = result.stdout.split("logs and databases in ", 1)[1].split()[0]  # the run's own folder
    assert _running_with(work) == []  # the desk, store, indexer, nodes and arbitrators all stopped


def _running_with(text: str) -> list[str]:
    """Command lines of the running processes that mention `text` (from /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while we looked
            continue
        if text in line:
            found.append(line)
    return found
