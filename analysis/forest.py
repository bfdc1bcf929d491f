"""Forest plots as inline SVG: the report stays one file that makes no outside request."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH, LABEL_WIDTH, VALUE_WIDTH, ROW, TOP = 760, 190, 170, 24, 26


@dataclass(frozen=True)
class Line:
    label: str
    estimate: float
    ci_low: float
    ci_high: float
    emphasis: bool = False  # a primary outcome


def _ticks(low: float, high: float) -> list[float]:
    span = high - low
    step = 10 ** math.floor(math.log10(span / 4)) if span > 0 else 1
    for multiple in (1, 2, 5, 10):
        if span / (step * multiple) <= 6:
            step *= multiple
            break
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step) + 1)]


def forest_svg(title: str, lines: list[Line], pooled: Line | None, unit: str) -> str:
    """One row per study (square and CI), the random-effects pooled estimate as a diamond,
    a line at no effect, and each estimate with its CI written beside it."""
    every = [*lines, *([pooled] if pooled else [])]
    low = min(0.0, *(x.ci_low for x in every))
    high = max(0.0, *(x.ci_high for x in every))
    pad = (high - low) * 0.05 or 1.0
    low, high = low - pad, high + pad
    plot_left, plot_right = LABEL_WIDTH, WIDTH - VALUE_WIDTH
    rows = len(every)
    height = TOP + rows * ROW + 40

    def x(value: float) -> float:
        return plot_left + (value - low) / (high - low) * (plot_right - plot_left)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="forest" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-label="{escape(title)}">',
        f'<text x="0" y="16" class="title">{escape(title)}</text>',
        f'<line x1="{x(0):.1f}" y1="{TOP - 4}" x2="{x(0):.1f}" y2="{TOP + rows * ROW}" class="zero"/>',
    ]
    for i, line in enumerate(every):
        y = TOP + i * ROW + ROW / 2
        weight = ' font-weight="600"' if line.emphasis else ""
        parts.append(f'<text x="0" y="{y + 4:.1f}"{weight}>{escape(line.label)}</text>')
        left, mid, right = x(line.ci_low), x(line.estimate), x(line.ci_high)
        if line is pooled:
            points = f"{left:.1f},{y:.1f} {mid:.1f},{y - 7:.1f} {right:.1f},{y:.1f} {mid:.1f},{y + 7:.1f}"
            parts.append(f'<polygon class="pooled" points="{points}"/>')
        else:
            parts.append(
                f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" class="ci"/>'
                f'<rect x="{mid - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" class="point"/>'
            )
        parts.append(
            f'<text x="{WIDTH}" y="{y + 4:.1f}" text-anchor="end"{weight}>'
            f"{line.estimate:.2f} ({line.ci_low:.2f} to {line.ci_high:.2f})</text>"
        )
    axis_y = TOP + rows * ROW + 6
    parts.append(f'<line x1="{plot_left}" y1="{axis_y}" x2="{plot_right}" y2="{axis_y}" class="axis"/>')
    for tick in _ticks(low, high):
        parts.append(
            f'<text x="{x(tick):.1f}" y="{axis_y + 14}" text-anchor="middle" class="tick">{tick:g}</text>'
        )
    middle = (plot_left + plot_right) / 2
    parts.append(
        f'<text x="{middle:.1f}" y="{axis_y + 30}" text-anchor="middle" class="tick">{escape(unit)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
