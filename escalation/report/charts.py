"""Inline SVG charts for the HTML page, drawn in Python; every text is escaped."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from escalation.report.figures import duration_text

WIDTH = 440  # the viewBox width: the page scales the SVG to its column (350-470 px, phone to desktop)
INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"
BLUE, ORANGE, GREEN = "#2f6fde", "#e8871e", "#2f9e5b"
FONT = 'font-family="system-ui, sans-serif" font-size="14"'


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its length and the text printed beside it."""

    label: str
    value: float
    shown: str


def _svg(chart_id: str, title: str, height: float, body: list[str]) -> str:
    return (
        f'<svg id="{escape(chart_id)}" class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" width="100%" {FONT} fill="{INK}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = INK, extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{extra}>{escape(text)}</text>'


def _empty(chart_id: str, title: str) -> str:
    return _svg(chart_id, title, 40, [_text(WIDTH / 2, 25, "nothing to show in this run", "middle", MUTED)])


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], color: str = BLUE) -> str:
    """Horizontal bars from zero, one row each, the value printed at the end of the bar."""
    if not bars:
        return _empty(chart_id, title)
    label_w, value_w, row = 150, 125, 28
    span = WIDTH - label_w - value_w
    top = max((b.value for b in bars), default=0) or 1
    body = []
    for i, bar in enumerate(bars):
        y = 8 + i * row
        length = max(0.0, bar.value) / top * span
        body.append(_text(label_w - 8, y + 16, bar.label, "end"))
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{max(length, 1):.1f}" height="{row - 10}" '
                    f'rx="3" fill="{color}"/>')  # fmt: skip
        body.append(_text(label_w + length + 6, y + 16, bar.shown, fill=MUTED))
    return _svg(chart_id, title, 12 + len(bars) * row, body)


def histogram(
    chart_id: str, title: str, measured: Sequence[float], skipped: Sequence[float], bins: int = 10
) -> str:
    """Durations in equal bins from 0, stacked: fully measured, and including skipped simulated time."""
    if not measured and not skipped:
        return _empty(chart_id, title)
    left, bottom, top_pad, height = 36, 180, 28, 226
    span = max([*measured, *skipped]) or 1
    width = (WIDTH - left - 10) / bins
    counts = [[0, 0] for _ in range(bins)]
    for kind, values in enumerate((measured, skipped)):
        for value in values:
            counts[min(bins - 1, int(value / span * bins))][kind] += 1
    tallest = max(a + b for a, b in counts) or 1
    scale = (bottom - top_pad) / tallest
    body = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="{GRID}"/>']
    for tick in sorted({0, math.ceil(tallest / 2), tallest}):
        y = bottom - tick * scale
        body.append(_text(left - 6, y + 4, f"{tick:,}", "end", MUTED))
    for i, (plain, jumped) in enumerate(counts):
        x = left + i * width
        for count, base, color in ((plain, 0, BLUE), (jumped, plain, ORANGE)):
            if count:
                y = bottom - (base + count) * scale
                body.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{width - 2:.1f}" '
                            f'height="{count * scale:.1f}" fill="{color}"/>')  # fmt: skip
    for i in range(0, bins + 1, 5):
        anchor = "start" if i == 0 else "end" if i == bins else "middle"
        body.append(_text(left + i * width, bottom + 18, duration_text(span * i / bins), anchor, MUTED))
    body.append(f'<rect x="{left}" y="4" width="12" height="12" fill="{BLUE}"/>')
    body.append(_text(left + 18, 15, "measured"))
    if skipped:
        body.append(f'<rect x="{left + 100}" y="4" width="12" height="12" fill="{ORANGE}"/>')
        body.append(_text(left + 118, 15, "includes skipped simulated time"))
    body.append(_text(WIDTH - 10, bottom + 40, "tickets per bin; time from escalation", "end", MUTED))
    return _svg(chart_id, title, height, body)


def rate_chart(chart_id: str, title: str, points: Sequence[tuple[str, float]]) -> str:
    """A line of rates (0-1) per period; the y axis starts at the tenth below the lowest rate."""
    if not points:
        return _empty(chart_id, title)
    left, right, top, bottom = 46, WIDTH - 30, 24, 180
    low = max(0.0, math.floor(min(r for _, r in points) * 10 - 0.5) / 10)
    y_of = lambda rate: bottom - (rate - low) / (1 - low or 1) * (bottom - top)  # noqa: E731
    step = (right - left) / max(1, len(points) - 1)
    x_of = lambda i: left + (i * step if len(points) > 1 else (right - left) / 2)  # noqa: E731
    body = []
    for tick in (low, (low + 1) / 2, 1.0):
        y = y_of(tick)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, f"{tick:.0%}", "end", MUTED))
    path = " ".join(f"{x_of(i):.1f},{y_of(r):.1f}" for i, (_, r) in enumerate(points))
    body.append(f'<polyline points="{path}" fill="none" stroke="{GREEN}" stroke-width="3"/>')
    every = max(1, math.ceil(len(points) / 6))  # at most 6 labels fit a phone's width
    for i, (label, rate) in enumerate(points):
        body.append(f'<circle cx="{x_of(i):.1f}" cy="{y_of(rate):.1f}" r="5" fill="{GREEN}"/>')
        if i % every == 0 or i == len(points) - 1:
            body.append(_text(x_of(i), y_of(rate) - 10, f"{rate:.1%}", "middle"))
            body.append(_text(x_of(i), bottom + 20, label, "middle", MUTED))
    return _svg(chart_id, title, bottom + 30, body)
