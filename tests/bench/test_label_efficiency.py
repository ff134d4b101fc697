"""The "Bach to rate" figure: answers to reach random picks' ROC AUC, read off mean curves."""

from __future__ import annotations

import math

from bench.replay import label_efficiency
from jobs.replay import LearningCurve

RATINGS = (5, 15, 25, 35, 45)


def pair(active: list[float], rand: list[float]) -> tuple[LearningCurve, LearningCurve]:
    return LearningCurve("active", RATINGS, tuple(active)), LearningCurve(
        "random", RATINGS, tuple(rand)
    )


def test_a_curve_that_gets_there_in_half_the_answers_has_ratio_one_half() -> None:
    # Random reaches 0.70 after 45 answers; bachbot after 25 (linear between rounds).
    curves = [pair([0.5, 0.6, 0.7, 0.7, 0.7], [0.5, 0.55, 0.6, 0.65, 0.7])] * 4
    e = label_efficiency(curves, at=4)
    assert e.at == 45 and math.isclose(e.target, 0.7)
    assert math.isclose(e.ratio, 25 / 45)
    assert e.low <= e.ratio <= e.high


def test_reads_the_mean_curve_not_each_seed() -> None:
    # Each seed alone crosses 0.6 at a different round; their mean crosses at 25.
    curves = [pair([0.5, 0.7, 0.6, 0.6, 0.6], [0.5, 0.5, 0.5, 0.5, 0.6]),
              pair([0.5, 0.5, 0.6, 0.6, 0.6], [0.5, 0.5, 0.5, 0.5, 0.6])]  # fmt: skip
    assert math.isclose(label_efficiency(curves, at=4).ratio, 15 / 45)


def test_never_reaching_it_is_infinite_and_shows_in_the_interval() -> None:
    e = label_efficiency([pair([0.5, 0.55, 0.6, 0.6, 0.6], [0.5, 0.6, 0.65, 0.7, 0.75])] * 3, at=4)
    assert math.isinf(e.ratio) and math.isinf(e.high)
    assert e.to_dict()["ratio"] == "inf" and "never" in e.as_text()


def test_the_interval_widens_with_disagreeing_seeds() -> None:
    rand = [0.5, 0.55, 0.6, 0.62, 0.65]
    steady = [pair([0.5, 0.6, 0.7, 0.7, 0.7], rand)] * 6
    mixed = steady[:3] + [pair([0.5, 0.5, 0.55, 0.6, 0.7], rand)] * 3
    a, b = label_efficiency(steady, at=4), label_efficiency(mixed, at=4)
    assert a.high - a.low == 0
    assert b.high - b.low > 0.1 and b.low <= b.ratio <= b.high
