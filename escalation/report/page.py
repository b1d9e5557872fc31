"""The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched."""

from html import escape

from escalation.report import charts
from escalation.report.economics import economics
from escalation.report.figures import duration_text, escalation_rate, timings, usdc_text
from escalation.report.model import USDC, OperationReport
from escalation.report.wording import (
    REASON_WORDS,
    Row,
    cost_rows,
    gas_rows,
    money_rows,
    run_line,
    ticket_rows,
    timing_rows,
)

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: #1f2933; background: #f5f7fa; }
main { max-width: 1000px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.1rem; margin: 0 0 8px; }
.run { color: #616e7c; margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px;
  margin-bottom: 16px; }
.card, section { background: #fff; border: 1px solid #e4e7eb; border-radius: 8px; padding: 12px; }
.card b { display: block; font-size: 1.3rem; }
.card span { color: #616e7c; font-size: 0.85rem; }
.grid { display: grid; grid-template-columns: 1fr; gap: 12px; }
@media (min-width: 760px) { .grid { grid-template-columns: 1fr 1fr; } .wide { grid-column: 1 / -1; } }
table { width: 100%; border-collapse: collapse; margin-top: 8px; }
td { padding: 4px 6px; border-top: 1px solid #f0f2f5; vertical-align: top; overflow-wrap: break-word; }
td.sub { padding-left: 18px; }
td:first-child { min-width: 8em; }
td.v { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.n { color: #616e7c; font-size: 0.85rem; }
svg.chart { display: block; width: 100%; height: auto; }
ul { padding-left: 20px; margin: 6px 0 0; }
.note { color: #8a4b00; }
@media (max-width: 600px) {
  tr { display: grid; grid-template-columns: 1fr auto; border-top: 1px solid #f0f2f5; }
  td { border: 0; } td:first-child { min-width: 0; } td.n { grid-column: 1 / -1; padding-top: 0; }
}
"""


def _rows(rows: list[Row]) -> str:
    cells = "".join(
        f"<tr><td{' class=sub' if r.label.startswith(' ') else ''}>{escape(r.label.strip())}</td>"
        f'<td class="v">{escape(r.value)}</td>'
        f'<td class="n">{escape(r.note)}</td></tr>'
        for r in rows
    )
    return f"<table>{cells}</table>"


def _section(title: str, *parts: str, wide: bool = False) -> str:
    cls = ' class="wide"' if wide else ""
    return f"<section{cls}><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def _card(value: str, label: str) -> str:
    return f'<div class="card"><b>{escape(value)}</b><span>{escape(label)}</span></div>'


def render_html(report: OperationReport) -> str:
    """The whole page as a string."""
    e = economics(report)
    acceptance, payment = timings(report)
    per_resolution = e.measured_cost_per_resolution_usd
    cards = "".join((
        _card(f"{report.tickets.total:,}", "tickets"),
        _card(f"{escalation_rate(report):.1%}", "escalated to a human"),
        _card(f"{report.tickets.resolved:,}", "resolved and paid"),
        _card(duration_text(payment.all.p50_s), "escalation to payment, p50"),
        _card("-" if per_resolution is None else f"${per_resolution:,.2f}", "per resolution, this run"),
    ))  # fmt: skip
    reasons = charts.bar_chart(
        "chart-reasons", "Escalations by reason",
        [charts.Bar(REASON_WORDS[t.value], n, f"{n:,}") for t, n in report.reasons.items()],
    )  # fmt: skip
    money = charts.bar_chart(
        "chart-money", "Money by flow (USDC)",
        [charts.Bar(label, units / USDC, usdc_text(units)) for label, units in report.money.flows()],
        color=charts.GREEN,
    )  # fmt: skip
    plain = lambda m: [d for t in report.timings if (d := getattr(t, f"to_{m}_s")) is not None  # noqa: E731
                       and not getattr(t, f"skipped_to_{m}_s")]  # fmt: skip
    jumped = lambda m: [d for t in report.timings if (d := getattr(t, f"to_{m}_s")) is not None  # noqa: E731
                        and getattr(t, f"skipped_to_{m}_s")]  # fmt: skip
    to_accept = charts.histogram("chart-acceptance", "Escalation to acceptance", plain("acceptance"),
                                 jumped("acceptance"))  # fmt: skip
    to_pay = charts.histogram("chart-payment", "Escalation to payment", plain("payment"), jumped("payment"))
    autonomy = charts.rate_chart(
        "chart-autonomy", "Autonomous-resolution rate", [(p.period, p.rate) for p in report.autonomy]
    )
    assumptions = "".join(f"<li>{escape(line)}</li>" for line in e.assumptions)
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in report.notes)
    sections = "".join((
        _section("Tickets", _rows(ticket_rows(report))),
        _section("Escalations by reason", reasons,
                 "<p class=\"run\">A ticket can have several reasons.</p>"),
        _section("Time from escalation (the run's clock)", _rows(timing_rows((acceptance, payment))),
                 wide=True),
        _section("Escalation to acceptance", to_accept),
        _section("Escalation to payment", to_pay),
        _section("Money (USDC, each flow separate)", _rows(money_rows(report))),
        _section("Money by flow", money),
        _section("Autonomous-resolution rate", autonomy),
        _section("Cost against a full-time team", _rows(cost_rows(e))),
        _section(f"Gas at {report.assumptions.gas_gwei:g} gwei, POL ${report.assumptions.pol_usd:.2f}",
                 _rows(gas_rows(e))),
        _section("Assumptions", f"<ul>{assumptions}</ul>", notes),
    ))  # fmt: skip
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,"><title>Support operation report</title>'
        f"<style>{STYLE}</style></head><body><main><h1>Support operation report</h1>"
        f'<p class="run">{escape(run_line(report))}</p><div class="cards">{cards}</div>'
        f'<div class="grid">{sections}</div></main></body></html>\n'
    )
