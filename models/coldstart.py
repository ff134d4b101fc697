"""The fallback below ``min_ratings``: how close is a track to the user's favourites?

With a handful of ratings an MLP learns noise and its cross-validated score is
meaningless, so bachbot scores candidates by their distance to the top-rated
tracks instead.  The score stays on the rating scale, so publishing thresholds
mean the same thing before and after the first trained model:

    score = base + (rating of nearest favourite - base) * similarity

where ``base`` is the mean given rating, but no higher than the middle of the
1-10 scale (a new user's ratings are mostly likes, all 8s: with base 8 every
track would score 8 and the ranking would mean nothing), and ``similarity`` = exp(-d^2 / 2h^2) in
standardised feature space (h: median distance among the rated tracks).  A track
identical to a favourite gets that favourite's rating, a track unlike all of them
the user's average.  Uncertainty is the rating spread times (1 - similarity).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from models.pipeline import Array
from models.registry import NotEnoughData

TOP_FRACTION = 1 / 3
NEUTRAL = 5.5
"""The middle of the rating scale: what an unknown track is worth to a user who only liked."""
MIN_SPREAD = 1.0


@dataclass
class ColdStartModel:
    """Similarity to the top-rated tracks; see the module docstring for the formula."""

    columns: tuple[str, ...]
    top_fraction: float = TOP_FRACTION
    kind: str = "coldstart"
    centre_: Array = field(default_factory=lambda: np.empty(0))
    scale_: Array = field(default_factory=lambda: np.empty(0))
    usable_: Array = field(default_factory=lambda: np.empty(0, dtype=bool))
    favourites_: Array = field(default_factory=lambda: np.empty((0, 0)))
    favourite_ratings_: Array = field(default_factory=lambda: np.empty(0))
    base_: float = math.nan
    spread_: float = math.nan
    bandwidth_: float = 1.0

    def fit(self, X: Array, y: Array) -> ColdStartModel:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        if len(y) == 0:
            raise NotEnoughData(
                "no ratings yet, so there is nothing to compare tracks with; like a few "
                "Bach recordings on Spotify (or import ratings) and bachbot will start"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            centre = np.nanmedian(X, axis=0) if X.size else np.empty(X.shape[1])
            scale = np.nanstd(X, axis=0) if X.size else np.empty(X.shape[1])
        self.usable_ = np.isfinite(centre)
        self.centre_ = np.where(self.usable_, centre, 0.0)
        self.scale_ = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        Z = self._standardise(X)
        k = max(1, math.ceil(self.top_fraction * len(y)))
        top = np.argsort(-y, kind="stable")[:k]
        self.favourites_ = Z[top]
        self.favourite_ratings_ = y[top]
        self.base_ = min(float(y.mean()), NEUTRAL)
        self.spread_ = max(float(y.std()) if len(y) > 1 else MIN_SPREAD, MIN_SPREAD)
        dists = _pairwise(Z, Z)
        positive = dists[dists > 0]
        self.bandwidth_ = float(np.median(positive)) if positive.size else 1.0
        return self

    def _standardise(self, X: Array) -> Array:
        Z = (np.asarray(X, dtype=float) - self.centre_) / self.scale_
        Z = np.where(np.isnan(Z), 0.0, Z)  # missing -> the rated tracks' median
        return Z[:, self.usable_]

    def predict_with_uncertainty(self, X: Array) -> tuple[Array, Array]:
        Z = self._standardise(X)
        if Z.shape[1] == 0:
            n = len(Z)
            return np.full(n, self.base_), np.full(n, self.spread_)
        dists = _pairwise(Z, self.favourites_)
        nearest = dists.argmin(axis=1)
        d = dists[np.arange(len(Z)), nearest]
        similarity = np.exp(-(d**2) / (2 * self.bandwidth_**2))
        scores = self.base_ + (self.favourite_ratings_[nearest] - self.base_) * similarity
        return scores, self.spread_ * (1 - similarity)

    def predict(self, X: Array) -> Array:
        return self.predict_with_uncertainty(X)[0]


def _pairwise(A: Array, B: Array) -> Array:
    """Euclidean distances, in blocks small enough for 50,000 candidates."""
    out = np.empty((len(A), len(B)))
    b2 = (B**2).sum(axis=1)
    for start in range(0, len(A), 4096):
        block = A[start : start + 4096]
        sq = (block**2).sum(axis=1)[:, None] + b2[None, :] - 2 * block @ B.T
        out[start : start + 4096] = np.sqrt(np.maximum(sq, 0.0))
    return out


def fit_coldstart(X: Array, y: Array, *, columns: tuple[str, ...]) -> ColdStartModel:
    """The fallback fitted on the ratings there are (at least one)."""
    return ColdStartModel(columns=columns).fit(X, y)
