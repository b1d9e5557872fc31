"""A support manager's report of a run: the typed record, its economics and its three renderings."""

from escalation.report.assumptions import Assumptions
from escalation.report.economics import Economics, economics
from escalation.report.files import ReportError, ReportFiles, read_report, report_json, write_report
from escalation.report.model import (
    Dispute,
    Gas,
    Money,
    OperationReport,
    PeriodRate,
    ReasonCounts,
    Ruling,
    RunParams,
    TicketCounts,
    TicketTiming,
)
from escalation.report.page import render_html
from escalation.report.terminal import render_terminal

__all__ = [
    "Assumptions",
    "Dispute",
    "Economics",
    "Gas",
    "Money",
    "OperationReport",
    "PeriodRate",
    "ReasonCounts",
    "ReportError",
    "ReportFiles",
    "Ruling",
    "RunParams",
    "TicketCounts",
    "TicketTiming",
    "economics",
    "read_report",
    "render_html",
    "render_terminal",
    "report_json",
    "write_report",
]
