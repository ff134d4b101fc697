"""The cold start: similarity to what was loved and what was removed."""

from __future__ import annotations

import numpy as np
import pytest

from models.coldstart import PRIOR, ColdStartClassifier

RATED = np.array([[0.9, 120.0], [0.8, 118.0], [0.1, 60.0], [0.2, 65.0], [0.5, 90.0]])
LOVED = np.array([1, 1, 0, 0, 1])


def fit(X: np.ndarray = RATED, y: np.ndarray = LOVED) -> ColdStartClassifier:
    return ColdStartClassifier().fit(X, y)


def proba(model: ColdStartClassifier, X: np.ndarray) -> np.ndarray:
    return model.predict_proba(np.asarray(X, dtype=float))[:, 1]


def test_tracks_near_loved_ones_outrank_tracks_near_removed_ones() -> None:
    p = proba(fit(), [[0.85, 119.0], [0.15, 62.0]])
    assert p[0] > 0.5 > p[1]


def test_a_copy_of_a_removed_track_scores_below_a_track_unlike_anything_rated() -> None:
    """The old cold start ignored removals: a copy of a removed track outranked novelty."""
    p = proba(fit(), [[0.1, 60.0], [50.0, 5000.0]])
    assert p[0] < p[1] == pytest.approx(PRIOR, abs=1e-6)


def test_far_from_everything_the_prior_holds_with_the_widest_spread() -> None:
    model = fit()
    far = np.array([[50.0, 5000.0]])
    near = np.array([[0.9, 120.0]])
    assert model.spread(far)[0] > model.spread(near)[0] > 0


def test_missing_features_fall_back_to_the_rated_median() -> None:
    X = RATED.copy()
    X[:, 1] = np.nan
    p = proba(fit(X), [[0.9, np.nan], [0.1, np.nan]])
    assert p[0] > p[1]
    empty = fit(np.full((5, 2), np.nan))
    assert proba(empty, np.ones((2, 2))).tolist() == pytest.approx([proba(empty, [[1, 1]])[0]] * 2)


def test_no_ratings_at_all_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least one rated track"):
        ColdStartClassifier().fit(np.empty((0, 2)), np.empty(0, dtype=int))
