"""Writes a report as report.json and report.html into a folder, and reads the JSON back."""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from escalation.errors import EscalationError
from escalation.report.economics import economics
from escalation.report.figures import timings
from escalation.report.model import OperationReport
from escalation.report.page import render_html

DERIVED = "derived"  # the JSON key of the figures computed from the measurements (ignored on reading)


class ReportError(EscalationError):
    """A report cannot be written or read; the message says where and what to do."""


@dataclass(frozen=True)
class ReportFiles:
    """Where a report was written."""

    json: Path
    html: Path


def report_json(report: OperationReport) -> str:
    """The report as JSON: its fields in model order, plus the derived figures under `derived`."""
    acceptance, payment = timings(report)
    body: dict[str, Any] = report.model_dump(mode="json")
    body[DERIVED] = {
        "escalation_to_acceptance": acceptance.model_dump(mode="json"),
        "escalation_to_payment": payment.model_dump(mode="json"),
        "economics": economics(report).model_dump(mode="json"),
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def write_report(report: OperationReport, out_dir: Path | str) -> ReportFiles:
    """Writes `out_dir`/report.json and `out_dir`/report.html (creating the folder), each atomically."""
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(
            f"cannot create the report folder {folder}: {exc}; give a folder you can write"
        ) from exc
    files = ReportFiles(json=folder / "report.json", html=folder / "report.html")
    for path, text in ((files.json, report_json(report)), (files.html, render_html(report))):
        partial = path.with_name(path.name + ".partial")
        try:
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, path)
        except OSError as exc:
            raise ReportError(f"cannot write {path}: {exc}; free space or pick another folder") from exc
    return files


def read_report(path: Path | str) -> OperationReport:
    """Reads a report.json written by `write_report` (its derived figures are recomputed, not read)."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(
            f"cannot read the report {path}: {exc}; give a report.json write_report made"
        ) from exc
    if not isinstance(body, dict):
        raise ReportError(f"{path} holds no report object; give a report.json write_report made")
    body.pop(DERIVED, None)
    return OperationReport.model_validate(body)
