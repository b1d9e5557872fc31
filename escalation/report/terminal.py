"""The report in a terminal, with rich, laid out for 100 columns."""

from rich import box
from rich.console import Console, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from escalation.report.economics import economics
from escalation.report.figures import timings
from escalation.report.model import OperationReport
from escalation.report.wording import Row, cost_rows, gas_rows, money_rows, run_line, ticket_rows, timing_rows

WIDTH = 100  # the terminal width the report is laid out for
BAR = 30  # characters of the autonomy bar at 100 %


def _table(title: str, rows: list[Row], value_width: int = 24) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, expand=True, show_header=False)
    table.add_column(ratio=3, overflow="fold")
    table.add_column(justify="right", min_width=value_width, no_wrap=True)
    table.add_column(ratio=4, style="dim", overflow="fold")
    for row in rows:
        table.add_row(row.label, row.value, row.note)
    return table


def _autonomy(report: OperationReport) -> Table:
    table = Table(title="Autonomous-resolution rate", title_justify="left", box=box.SIMPLE_HEAD, expand=True)
    table.add_column("period")
    table.add_column("tickets", justify="right")
    table.add_column("resolved by the AI", justify="right")
    table.add_column("", no_wrap=True)
    for period in report.autonomy:
        table.add_row(period.period, f"{period.tickets:,}", f"{period.rate:.1%}",
                      Text("█" * round(period.rate * BAR), style="green"))  # fmt: skip
    return table


def render_terminal(report: OperationReport, console: Console | None = None) -> None:
    """Prints the whole report to `console` (stdout by default), never wider than 100 columns."""
    out = console or Console(width=WIDTH)
    e, a = economics(report), report.assumptions
    parts: list[RenderableType] = [
        Rule("[bold]Support operation report"),
        Text(run_line(report)),
        _table("Tickets", ticket_rows(report), value_width=8),
        _table("Time from escalation (the run's clock)", timing_rows(timings(report))),
        _table("Money (USDC, each flow separate)", money_rows(report), value_width=18),
        _table(f"Gas at {a.gas_gwei:g} gwei, POL ${a.pol_usd:.2f}", gas_rows(e), value_width=12),
        _table("Cost against a full-time team", cost_rows(e), value_width=18),
        *([_autonomy(report)] if report.autonomy else []),
        Text("Assumptions", style="bold"),
        *(Text("- " + line) for line in e.assumptions),
        *(Text("Note: " + note, style="yellow") for note in report.notes),
    ]
    for part in parts:
        out.print(part, width=min(out.width, WIDTH), overflow="fold")
