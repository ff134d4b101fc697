"""A small inline SVG of what the model has learned: one bar per feature, right raises the chance.

Drawn by hand like :mod:`service.score_plot` (no plotting library in the
daemon).  Each bar is a feature's effect in probability points on the
average candidate (``models.explain.taste_effects``): to the right when its
side (the text on the bar's label) makes a track more likely to be loved,
to the left when a flag makes it less likely.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

WIDTH = 360
ROW = 22
LABEL = 170
"""Room (viewBox units) for the feature's words left of the bars."""
BARS = 8


def taste_plot_svg(features: Sequence[Mapping[str, Any]]) -> str:
    """The plot as an ``<svg>`` element; empty string when there is nothing to draw."""
    shown = list(features[:BARS])
    if not shown:
        return ""
    largest = max(abs(float(f["effect"])) for f in shown) or 1.0
    half = (WIDTH - LABEL - 8) / 2
    centre = LABEL + half
    height = ROW * len(shown) + 20
    parts = [
        f'<svg class="plot taste" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-label="What raises and lowers the chance you love a track">',
        f'<rect class="frame" x="{LABEL}" y="0" width="{2 * half:.1f}" height="{height - 18}"/>',
        f'<line class="baseline" x1="{centre:.1f}" y1="0" x2="{centre:.1f}" y2="{height - 18}"/>',
    ]
    for i, feature in enumerate(shown):
        effect = float(feature["effect"])
        length = half * abs(effect) / largest
        x = centre if effect >= 0 else centre - length
        y = ROW * i + 4
        kind = "up" if effect >= 0 else "down"
        text = escape(str(feature["text"]))
        parts.append(
            f'<text x="{LABEL - 6}" y="{y + 13}" text-anchor="end">{text}</text>'
            f'<rect class="bar {kind}" x="{x:.1f}" y="{y}" width="{max(length, 1):.1f}" '
            f'height="{ROW - 8}"><title>{text}: {effect * 100:+.0f} pts</title></rect>'
        )
    parts.append(
        f'<text x="{LABEL + 2}" y="{height - 4}">lowers</text>'
        f'<text x="{WIDTH - 4}" y="{height - 4}" text-anchor="end">raises the chance</text>'
    )
    return "".join(parts) + "</svg>"
