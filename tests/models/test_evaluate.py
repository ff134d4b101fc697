"""Nested evaluation: every candidate on the same folds, honest scores, the leak shown."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from models.evaluate import compute_metrics, evaluate, train_model
from models.pipeline import score
from models.registry import NotEnoughData
from tests.models.conftest import QUICK, taste_data

LDA_ONLY: dict[str, list[Any]] = {
    "reduce__kind": ["lda"],
    "model__regressor__activation": ["logistic"],
    "model__regressor__hidden_layer_sizes": [(2, 2)],
    "model__regressor__alpha": [0.1],
}


def test_noise_features_score_at_chance_nested_but_high_with_the_seeds_leaky_lda() -> None:
    """The seed fitted LDA on all ratings before CV; with 100 noise descriptors for
    60 tracks that alone makes the labels look predictable."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 100))
    y = rng.choice([3.0, 8.0], size=60)
    result = evaluate(X, y, options=replace(QUICK, grid=LDA_ONLY))
    assert result.candidates["mlp"].nested.r2 < 0.1
    assert result.leaky_seed_protocol.r2 > 0.3


def test_learnable_ratings_beat_the_mean_baseline() -> None:
    X, y = taste_data(60)
    result = evaluate(X, y, options=QUICK)
    assert result.candidates["mlp"].nested.r2 > 0.5
    assert result.candidates["mean"].nested.r2 < 0.05


def test_every_candidate_is_scored_on_the_same_outer_folds() -> None:
    X, y = taste_data(45)
    result = evaluate(X, y, options=QUICK)
    names = set(result.candidates)
    assert {"mlp", "mlp[lda]", "mlp[pca]", "mlp[none]", "mean", "ridge", "knn", "hgb"} <= names
    folds = {name: [tuple(f.test_index) for f in c.folds] for name, c in result.candidates.items()}
    assert len({tuple(v) for v in folds.values()}) == 1


def test_model_setting_mlp_keeps_the_seed_family_and_auto_takes_the_best() -> None:
    X, y = taste_data(45)
    X[:, 0] = np.round(X[:, 0])  # a step function: trees have an edge
    mlp = evaluate(X, y, options=QUICK)
    auto = evaluate(X, y, options=replace(QUICK, choose="auto"))
    assert mlp.chosen == "mlp"
    best = max(
        (c for c in auto.candidates.values() if c.family != "experiment"), key=lambda c: c.score
    )
    assert auto.chosen == best.name


def test_json_report_has_chosen_and_every_candidate_with_nested_metrics() -> None:
    X, y = taste_data(45)
    result = train_model(X, y, options=replace(QUICK, augment=True), columns=list("abcdef"))
    report = result.evaluation.to_dict()
    assert report["chosen"]["name"] == "mlp"
    assert set(report["chosen"]["metrics"]) == {"r2", "mse", "mae", "spearman"}
    assert report["chosen"]["params"]["hidden_layer_sizes"] == [2, 2]
    names = [c["name"] for c in report["candidates"]]
    assert "mlp+augment" in names and "hgb" in names
    assert [r["reducer"] for r in report["reducers"]] == ["lda", "pca", "none"]
    assert report["leaky_seed_protocol"]["metrics"]["r2"] is not None


def test_binary_target_is_also_reported_with_roc_auc() -> None:
    X, y = taste_data(45)
    y01 = (y > np.median(y)).astype(float)
    result = evaluate(X, y01, options=QUICK)
    auc = result.candidates["ridge"].nested.roc_auc
    assert auc is not None and auc > 0.7


def test_trained_model_scores_with_uncertainty_from_outer_fold_models() -> None:
    X, y = taste_data(45)
    result = train_model(X, y, options=QUICK, columns=list("abcdef"))
    scores, spread = score(result.model, X[:5])
    assert len(result.model.fold_models) == QUICK.outer_splits
    assert scores.shape == spread.shape == (5,)
    assert (spread >= 0).all() and spread.max() > 0
    assert (scores >= y.min()).all() and (scores <= y.max()).all()


def test_too_few_ratings_are_refused_with_the_number_needed() -> None:
    X, y = taste_data(9)
    with pytest.raises(NotEnoughData, match="rate at least 10 tracks"):
        evaluate(X, y, options=replace(QUICK, outer_splits=5))


@pytest.mark.parametrize(
    ("y_true", "y_pred", "r2", "spearman"),
    [
        ([1, 2, 3, 4], [1, 2, 3, 4], 1.0, 1.0),
        ([1, 2, 3, 4], [2.5, 2.5, 2.5, 2.5], 0.0, math.nan),  # constant prediction
        ([5, 5, 5], [4, 5, 6], math.nan, math.nan),  # constant truth: R2 undefined
    ],
)
def test_metrics_are_nan_where_undefined_instead_of_warning(
    y_true: list[float], y_pred: list[float], r2: float, spearman: float
) -> None:
    m = compute_metrics(np.array(y_true, dtype=float), np.array(y_pred, dtype=float))
    for got, want in ((m.r2, r2), (m.spearman, spearman)):
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)
