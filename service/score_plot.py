"""A small inline SVG of the model's score, one point per model trained, oldest to newest.

Drawn by hand rather than with matplotlib: the daemon answers the status page
every minute and should not load a plotting library (and its font cache) to
draw a dozen dots.  The SVG scales to its box (``viewBox``), so one drawing
serves a phone and a desktop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from service.model_readout import metric_baseline, metric_label
from service.readable_time import stamp

WIDTH, HEIGHT = 360, 160
"""About a phone's width, so at 390 px the labels show at their size; a desktop scales it up."""
LEFT, RIGHT, TOP, BOTTOM = 36, 4, 8, 22
"""Margins (in viewBox units) for the score labels on the left and the dates below."""
INSET = 8
"""Keeps the first and last dots off the frame's edges."""

BOUNDED_AT_ONE = frozenset({"roc_auc", "r2", "average_precision", "ndcg"})
"""Metrics whose best possible value is 1, so the axis can show how far there is to go."""

_STATES = {"current": "in use now", "used": "was in use", "tried": "not better, not used"}


@dataclass(frozen=True)
class PlotPoint:
    when: datetime
    value: float
    in_use: bool
    """The model was promoted (it served the playlist for a while)."""
    current: bool = False
    """The model serving the playlist now."""


def score_plot_svg(points: Sequence[PlotPoint], *, metric: str) -> str:
    """The plot as an ``<svg>`` element; empty string when there is nothing to draw."""
    if not points:
        return ""
    values = [p.value for p in points]
    baseline = metric_baseline(metric)
    lo = min([*values, *([baseline] if baseline is not None else [])])
    hi = max([*values, *([1.0] if metric in BOUNDED_AT_ONE else [])])
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        span = inner_w - 2 * INSET
        return LEFT + INSET + (span / 2 if len(points) == 1 else span * i / (len(points) - 1))

    def y(v: float) -> float:
        return TOP + inner_h * (hi - v) / (hi - lo)

    label = metric_label(metric)
    parts = [
        f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="plot-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="plot-title">{escape(label)} of each model trained, oldest to newest</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{inner_w}" height="{inner_h}" class="frame"/>',
    ]
    for tick in sorted({lo, hi, *([baseline] if baseline is not None else [])}):
        parts.append(
            f'<text x="{LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.2f}</text>'
        )
    if baseline is not None:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(baseline):.1f}" '
            f'y2="{y(baseline):.1f}" class="baseline"/>'
        )
    used = [(x(i), y(p.value)) for i, p in enumerate(points) if p.in_use]
    if len(used) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in used)
        parts.append(f'<polyline points="{path}" class="line"/>')
    for i, p in enumerate(points):
        kind = "current" if p.current else ("used" if p.in_use else "tried")
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="{5 if p.current else 3.5}" '
            f'class="{kind}"><title>{escape(stamp(p.when))}: {escape(label)} '
            f"{p.value:.2f}, {_STATES[kind]}</title></circle>"
        )
    first, last = stamp(points[0].when)[:10], stamp(points[-1].when)[:10]
    bottom = HEIGHT - 6
    if len(points) == 1 or first == last:
        middle = LEFT + inner_w / 2
        parts.append(f'<text x="{middle}" y="{bottom}" text-anchor="middle">{first}</text>')
    else:
        parts.append(f'<text x="{LEFT}" y="{bottom}" text-anchor="start">{first}</text>')
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{bottom}" text-anchor="end">{last}</text>')
    parts.append("</svg>")
    return "".join(parts)
