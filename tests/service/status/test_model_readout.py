"""Scores and model metrics read on the listener's scale, old rows and new alike."""

from __future__ import annotations

import math

import pytest

from service.model_readout import format_score, format_spread, model_quality


@pytest.mark.parametrize(
    ("score", "shown"),
    [
        (0.87, "87% likely to be loved"),
        (0.0, "0% likely to be loved"),
        (1.0, "100% likely to be loved"),
        (0.004, "0% likely to be loved"),
        (7.43, "7.4/10"),  # an old 1-10 rating prediction
        (10.0, "10.0/10"),
        (-0.3, "-0.3/10"),  # an old regression below the scale is no probability either
        (math.nan, "not scored"),
    ],
)
def test_score_reads_as_a_chance_or_an_old_rating(score: float, shown: str) -> None:
    assert format_score(score) == shown


@pytest.mark.parametrize(
    ("score", "uncertainty", "shown"),
    [
        (0.87, 0.064, "model spread ±6 pts"),
        (0.87, None, None),
        (7.4, 1.2, None),  # the old rows' uncertainty is on the rating scale: not shown
        (0.5, math.nan, None),
    ],
)
def test_spread_is_in_points_and_only_for_probabilities(
    score: float, uncertainty: float | None, shown: str | None
) -> None:
    assert format_spread(score, uncertainty) == shown


@pytest.mark.parametrize(
    ("metrics", "shown"),
    [
        ({"metric": "roc_auc", "score": 0.8412, "mse": 1.1}, "ROC AUC 0.84 (nested CV)"),
        ({"score": 0.804, "r2": 0.8038, "mae": 0.3}, "R² 0.80 (nested CV)"),  # before `metric`
        ({"r2": 0.41, "mse": 1.9}, "R² 0.41 (nested CV)"),  # the oldest rows: no `score`
        ({"metric": "average_precision", "score": 0.7}, "average precision 0.70 (nested CV)"),
        ({"metric": "brier_skill", "score": 0.2}, "brier skill 0.20 (nested CV)"),
    ],
)
def test_model_quality_names_its_metric(metrics: dict[str, object], shown: str) -> None:
    quality = model_quality(metrics)
    assert quality is not None
    assert quality.describe() == shown


@pytest.mark.parametrize(
    "metrics",
    [None, {}, {"score": None}, {"metric": "roc_auc", "r2": 0.5}, {"score": True}],
)
def test_no_score_means_no_quality(metrics: dict[str, object] | None) -> None:
    assert model_quality(metrics) is None
