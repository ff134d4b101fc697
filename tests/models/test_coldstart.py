"""The fallback below min_ratings: similarity to the user's favourites."""

from __future__ import annotations

import numpy as np
import pytest

from models.coldstart import fit_coldstart
from models.registry import NotEnoughData

RATED = np.array([[0.9, 120.0], [0.8, 118.0], [0.1, 60.0], [0.2, 65.0], [0.5, 90.0]])
RATINGS = np.array([9.0, 8.0, 2.0, 3.0, 5.0])


def test_a_copy_of_a_favourite_gets_that_favourites_rating() -> None:
    model = fit_coldstart(RATED, RATINGS, columns=("valence", "tempo"))
    scores, spread = model.predict_with_uncertainty(RATED[:1])
    assert scores[0] == pytest.approx(9.0)
    assert spread[0] == pytest.approx(0.0)


def test_tracks_near_favourites_outrank_tracks_near_dislikes() -> None:
    model = fit_coldstart(RATED, RATINGS, columns=("valence", "tempo"))
    scores, _ = model.predict_with_uncertainty(np.array([[0.85, 119.0], [0.15, 62.0]]))
    assert scores[0] > scores[1]


def test_a_track_unlike_anything_rated_scores_the_average_with_high_uncertainty() -> None:
    model = fit_coldstart(RATED, RATINGS, columns=("valence", "tempo"))
    scores, spread = model.predict_with_uncertainty(np.array([[50.0, 5000.0]]))
    assert scores[0] == pytest.approx(RATINGS.mean(), abs=0.01)
    assert spread[0] == pytest.approx(RATINGS.std(), abs=0.01)


def test_missing_features_fall_back_to_the_rated_median_and_no_features_to_the_mean() -> None:
    X = RATED.copy()
    X[:, 1] = np.nan
    model = fit_coldstart(X, RATINGS, columns=("valence", "tempo"))
    scores, _ = model.predict_with_uncertainty(np.array([[0.9, np.nan]]))
    assert scores[0] == pytest.approx(9.0)
    empty = fit_coldstart(np.full((5, 2), np.nan), RATINGS, columns=("valence", "tempo"))
    assert empty.predict(np.ones((2, 2))).tolist() == [RATINGS.mean()] * 2


def test_no_ratings_at_all_is_a_clear_error() -> None:
    with pytest.raises(NotEnoughData, match="like a few"):
        fit_coldstart(np.empty((0, 2)), np.empty(0), columns=("valence", "tempo"))
