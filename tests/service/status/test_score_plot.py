"""The model's score over time as an inline SVG: well-formed, one dot per model, honest axis."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from service.score_plot import PlotPoint, score_plot_svg

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 11, 1, tzinfo=UTC)


def _points(*values: float) -> list[PlotPoint]:
    return [
        PlotPoint(START + timedelta(days=i), v, in_use=i != 1, current=i == len(values) - 1)
        for i, v in enumerate(values)
    ]


def test_one_dot_per_model_and_a_line_through_the_ones_used() -> None:
    svg = ET.fromstring(score_plot_svg(_points(0.7, 0.69, 0.84), metric="roc_auc"))
    dots = svg.findall(f"{SVG}circle")
    assert [d.get("class") for d in dots] == ["used", "tried", "current"]
    titles = [d.findtext(f"{SVG}title") for d in dots]
    assert titles[1] == "2026-11-02 00:00 UTC: ROC AUC 0.69, not better, not used"
    assert svg.find(f"{SVG}polyline") is not None
    # Higher scores sit higher: SVG's y grows downwards.
    ys = [float(d.get("cy", "nan")) for d in dots]
    assert ys[2] < ys[0] < ys[1]


def test_the_axis_shows_a_coin_toss_and_a_perfect_score() -> None:
    svg = ET.fromstring(score_plot_svg(_points(0.8), metric="roc_auc"))
    labels = {t.text for t in svg.findall(f"{SVG}text")}
    assert {"0.50", "1.00", "2026-11-01"} <= labels
    assert svg.find(f"{SVG}line[@class='baseline']") is not None


def test_a_negative_r2_widens_the_axis_instead_of_leaving_the_plot() -> None:
    svg = ET.fromstring(score_plot_svg(_points(-0.46, 0.8), metric="r2"))
    for dot in svg.findall(f"{SVG}circle"):
        assert 0 <= float(dot.get("cy", "nan")) <= float(svg.get("viewBox", "").split()[3])
    assert "-0.46" in {t.text for t in svg.findall(f"{SVG}text")}


def test_nothing_to_draw_is_no_plot() -> None:
    assert score_plot_svg([], metric="roc_auc") == ""
