"""The report's rows in words, shared by the terminal and the HTML page so both say the same."""

from dataclasses import dataclass

from escalation.report.economics import Economics
from escalation.report.figures import TimingSummary, duration_text, escalation_rate, usdc_text
from escalation.report.model import OperationReport, Ruling

RULING_WORDS = {
    Ruling.PAY_WORKER: "worker paid",
    Ruling.REFUND_AGENT: "agent refunded",
    Ruling.SPLIT: "split",
    Ruling.PENDING: "not ruled yet",
}
REASON_WORDS = {
    "low_confidence": "low confidence",
    "frustration": "frustration",
    "compliance_legal": "compliance / legal",
    "novel": "novel problem",
}


@dataclass(frozen=True)
class Row:
    """One line of a table: what, how much, and what to know about it."""

    label: str
    value: str
    note: str = ""


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def run_line(report: OperationReport) -> str:
    """The run's parameters in one sentence."""
    p = report.params
    days = f", over {p.simulated_days:g} simulated days" if p.simulated_days else ""
    took = f", took {duration_text(p.wall_clock_s)}" if p.wall_clock_s is not None else ""
    return f"{p.tickets:,} tickets, seed {p.seed}, speed x{p.speed:g}{days}, on {p.chain}{took}"


def ticket_rows(report: OperationReport) -> list[Row]:
    """Where the tickets went, escalations by reason, and the disputes' rulings."""
    t = report.tickets
    rows = [
        Row("tickets", f"{t.total:,}"),
        Row("handled by the AI", f"{t.handled_by_ai:,}", _share(t.handled_by_ai, t.total)),
        Row("escalated", f"{t.escalated:,}", f"{escalation_rate(report):.1%} of tickets"),
    ]
    rows += [
        Row(f"  {REASON_WORDS[trigger.value]}", f"{n:,}", "a ticket can have several reasons")
        if i == 0 else Row(f"  {REASON_WORDS[trigger.value]}", f"{n:,}")
        for i, (trigger, n) in enumerate(report.reasons.items())
    ]  # fmt: skip
    rulings = ", ".join(f"{d.ticket}: {RULING_WORDS[d.ruling]}" for d in report.disputes)
    rows += [
        Row(
            "matched (accepted by a worker)",
            f"{t.matched:,}",
            _share(t.matched, t.escalated) + " of escalated",
        ),
        Row("resolved (worker paid)", f"{t.resolved:,}", _share(t.resolved, t.escalated) + " of escalated"),
        Row("refunded to the agent", f"{t.refunded:,}", _share(t.refunded, t.escalated) + " of escalated"),
        Row("disputed", f"{report.disputed:,}", rulings),
    ]
    return rows


def timing_rows(summaries: tuple[TimingSummary, ...]) -> list[Row]:
    """Escalation to acceptance and to payment, p50 and p95, said honestly about skipped time."""
    rows = []
    for s in summaries:
        value = f"p50 {duration_text(s.all.p50_s)}, p95 {duration_text(s.all.p95_s)}"
        if not s.with_skipped:
            note = f"{s.all.count:,} tickets; no simulated time skipped"
        else:
            why = "; ".join(s.skipped_for)
            note = (
                f"{s.all.count:,} tickets; {s.with_skipped:,} include {duration_text(s.skipped_s)} of "
                f"skipped time in all ({why}). Without them: p50 {duration_text(s.not_skipped.p50_s)}, "
                f"p95 {duration_text(s.not_skipped.p95_s)} ({s.not_skipped.count:,} tickets)"
            )
        rows.append(Row(f"to {s.milestone}", value, note))
    return rows


MONEY_NOTES = {
    "rewards paid": "to workers",
    "refunds": "back to the agent (reward and protocol fee)",
    "oracle fees": "to the operators who attested",
    "protocol fees": "to the treasury; slashes not included",
    "slashes": "from operators a ruling proved wrong",
    "arbitration fees": "paid by disputers to the panels",
}


def money_rows(report: OperationReport) -> list[Row]:
    """Each money flow on its own line."""
    return [Row(label, usdc_text(units), MONEY_NOTES.get(label, "")) for label, units in report.money.flows()]


def _usd(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"${value:,.{digits}f}"


def gas_rows(e: Economics) -> list[Row]:
    """Gas per paid ticket and per step, in gas and dollars."""
    rows = [
        Row("per paid ticket, mean",
            "-" if e.paid_ticket_gas_mean is None else f"{e.paid_ticket_gas_mean:,.0f} gas",
            _usd(e.paid_ticket_usd_mean, 5)),
        Row("per paid ticket, p95",
            "-" if e.paid_ticket_gas_p95 is None else f"{e.paid_ticket_gas_p95:,.0f} gas", ""),
    ]  # fmt: skip
    rows += [
        Row(f"  {s.step}", f"{s.mean_gas:,.0f} gas", f"{_usd(s.mean_usd, 5)}; {s.transactions:,} tx")
        for s in e.steps
    ]
    return rows


def cost_rows(e: Economics) -> list[Row]:
    """Cost per resolution and per year against a full-time team."""
    team = f"{_usd(e.team_per_year_low_usd, 0)}-{_usd(e.team_per_year_high_usd, 0)}"
    return [
        Row("per resolution, this run", _usd(e.measured_cost_per_resolution_usd),
            "rewards + oracle and protocol fees over resolved tickets, + gas"),
        Row("per resolution, business case", _usd(e.case_cost_per_resolution_usd),
            f"reward + {e.protocol_fee_share:.1%} protocol fee + "
            f"{_usd(e.oracle_fee_per_resolution_usd)} oracle fee + gas"),
        Row("per year, escalations to the protocol", _usd(e.protocol_per_year_usd, 0),
            f"{e.escalations_per_year:,.0f} resolutions"),
        Row("per year, full-time team", team,
            f"{_usd(e.team_per_ticket_low_usd)}-{_usd(e.team_per_ticket_high_usd)} per ticket handled"),
    ]  # fmt: skip
