"""The pipeline's own pieces: rating classes, the reducer, the scaler, scoring."""

from __future__ import annotations

import numpy as np
import pytest

from models.candidates import build, mlp_configs
from models.pipeline import (
    Reducer,
    SkewAwareScaler,
    TasteModel,
    quiet_fit,
    rating_classes,
    score,
)
from tests.models.conftest import QUICK, taste_labels


@pytest.mark.parametrize(
    ("y", "expected_classes"),
    [
        ([1, 1, 2, 2, 3, 3], 3),  # whole ratings are their own classes
        ([1, 1, 2, 2, 9], 2),  # a lone 9 merges into its neighbour
        ([5, 5, 5, 5], 1),  # one class stays one class
        ([1, 2, 3, 4, 5, 6, 7, 8], 4),  # all singletons pair up
    ],
)
def test_rating_classes_give_lda_two_members_per_class(
    y: list[float], expected_classes: int
) -> None:
    classes = rating_classes(np.array(y, dtype=float))
    values, counts = np.unique(classes, return_counts=True)
    assert len(values) == expected_classes
    assert len(values) == 1 or counts.min() >= 2


def test_rating_classes_bin_a_continuous_target_instead_of_rounding_it_away() -> None:
    y = np.linspace(0, 1, 50)
    assert len(np.unique(rating_classes(y))) == 10


@pytest.mark.parametrize(
    ("kind", "y", "n_out"),
    [
        ("lda", [1, 1, 2, 2, 3, 3, 4, 4], 3),  # n_classes - 1
        ("lda", [7] * 8, 5),  # one class: nothing to separate, passes through
        ("none", [1, 1, 2, 2, 3, 3, 4, 4], 5),
    ],
)
def test_reducer_output_width(kind: str, y: list[float], n_out: int) -> None:
    X = np.random.default_rng(0).normal(size=(8, 5))
    with quiet_fit():
        out = Reducer(kind=kind).fit(X, np.array(y, dtype=float)).transform(X)  # type: ignore[arg-type]
    assert out.shape == (8, n_out)


def test_lda_components_are_capped_by_feature_count() -> None:
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.repeat(np.arange(1.0, 11.0), 2)
    with quiet_fit():
        assert Reducer(kind="lda").fit(X, y).transform(X).shape == (20, 2)


def test_pca_keeps_components_for_99_percent_of_variance() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(50, 2))
    X = np.hstack([base, base @ rng.normal(size=(2, 4))])  # rank 2
    assert Reducer(kind="pca").fit(X).transform(X).shape[1] == 2


def test_scaler_maps_skewed_columns_through_quantiles_but_not_binary_ones() -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.normal(size=200),
            rng.exponential(size=200) ** 3,
            (rng.uniform(size=200) < 0.05).astype(float),
        ]
    )
    assert SkewAwareScaler(skew_threshold=0.0).fit(X).skewed_.tolist() == [0, 1]
    scaler = SkewAwareScaler().fit(X)  # the default maps what is skewed (|skew| >= 1)
    assert scaler.skewed_.tolist() == [1]
    out = scaler.transform(X)
    assert abs(float(np.mean(out[:, 1]))) < 0.1
    np.testing.assert_array_equal(np.unique(out[:, 2]).size, 2)  # binary stays binary


@pytest.mark.parametrize("config", mlp_configs(fast=False), ids=lambda c: c.key)
def test_every_mlp_configuration_fits_with_missing_values_and_an_empty_column(config) -> None:  # type: ignore[no-untyped-def]
    X, labels = taste_labels(40, 4)
    X[::3, 0] = np.nan
    X[:, 3] = np.nan
    with quiet_fit():
        model = build(config, options=QUICK, n_train=40).fit(X, labels.loved)
    prob = model.predict_proba(X)[:, 1]
    assert np.isfinite(prob).all() and ((prob >= 0) & (prob <= 1)).all()


def test_pipeline_is_reproducible_with_the_same_seed() -> None:
    X, labels = taste_labels(40, 4)
    config = mlp_configs()[0]
    with quiet_fit():
        a = build(config, options=QUICK, n_train=40).fit(X, labels.loved).predict_proba(X)
        b = build(config, options=QUICK, n_train=40).fit(X, labels.loved).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_score_refuses_a_matrix_with_other_columns() -> None:
    from models.coldstart import ColdStartClassifier

    final = ColdStartClassifier().fit(np.ones((3, 2)), np.array([0, 1, 1]))
    model = TasteModel("coldstart", "coldstart", {}, final, ("a", "b"))
    with pytest.raises(ValueError, match="expects 2 columns"):
        score(model, np.ones((4, 3)))


@pytest.mark.parametrize(
    "column",
    [
        [1.0, np.nan, 3.0, 4.0],  # one missing: median + indicator
        [np.nan] * 4,  # provider block absent: zeros + indicator
        [2.0, 2.0, 5.0, 1.0],  # complete: no indicator
    ],
)
def test_median_imputer_matches_sklearns_simple_imputer(column: list[float]) -> None:
    from sklearn.impute import SimpleImputer

    from models.pipeline import MedianImputer

    X = np.column_stack([np.arange(4.0), column])
    ours = MedianImputer().fit(X).transform(X)
    with quiet_fit():
        theirs = SimpleImputer(
            strategy="median", add_indicator=True, keep_empty_features=True
        ).fit_transform(X)
    np.testing.assert_array_equal(ours, theirs)
