"""Figures derived from a report's measurements: percentiles and the timing summary (pure)."""

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from escalation.report.model import OperationReport, TicketTiming


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks; needs a value."""
    if not values:
        raise ValueError("percentile of no values: check that there are timings before asking")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Spread(BaseModel):
    """p50 and p95 of some durations, in seconds; None when there were none."""

    model_config = ConfigDict(frozen=True)
    count: int
    p50_s: float | None
    p95_s: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        """The spread of `values`."""
        if not values:
            return cls(count=0, p50_s=None, p95_s=None)
        return cls(count=len(values), p50_s=percentile(values, 50), p95_s=percentile(values, 95))


class TimingSummary(BaseModel):
    """Escalation to one milestone, said with and without the tickets whose clock was advanced."""

    model_config = ConfigDict(frozen=True)
    milestone: str  # "acceptance" or "payment"
    all: Spread  # every ticket that reached the milestone, skipped time included
    not_skipped: Spread  # only the tickets whose time to the milestone had nothing skipped
    with_skipped: int  # tickets whose figure includes skipped simulated time
    skipped_s: float  # the simulated seconds skipped, summed over those tickets
    skipped_for: list[str]  # why, each reason once


def timing_summary(timings: Sequence[TicketTiming], milestone: str) -> TimingSummary:
    """Summarises escalation -> `milestone` ("acceptance" or "payment") over the tickets that got there."""
    if milestone not in ("acceptance", "payment"):
        raise ValueError(f"milestone {milestone!r}: use 'acceptance' or 'payment'")
    reached = [
        (duration, getattr(t, f"skipped_to_{milestone}_s"), t.skipped_for)
        for t in timings
        if (duration := getattr(t, f"to_{milestone}_s")) is not None
    ]
    skipped = [(d, s, why) for d, s, why in reached if s > 0]
    return TimingSummary(
        milestone=milestone,
        all=Spread.of([d for d, _, _ in reached]),
        not_skipped=Spread.of([d for d, s, _ in reached if s == 0]),
        with_skipped=len(skipped),
        skipped_s=sum(s for _, s, _ in skipped),
        skipped_for=sorted({why for _, _, why in skipped}),
    )


def timings(report: OperationReport) -> tuple[TimingSummary, TimingSummary]:
    """The report's acceptance and payment summaries."""
    return timing_summary(report.timings, "acceptance"), timing_summary(report.timings, "payment")


def escalation_rate(report: OperationReport) -> float:
    """Share of the tickets handed to a human (0 when there were none)."""
    return report.tickets.escalated / report.tickets.total if report.tickets.total else 0.0


def duration_text(seconds: float | None) -> str:
    """A duration for people: 42 s, 3.5 min, 2.1 h, 1.5 d; a dash for none."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def usdc_text(base_units: int) -> str:
    """USDC base units as "1,234.56 USDC"."""
    return f"{base_units / 10**6:,.2f} USDC"
