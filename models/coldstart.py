"""Similarity to what the listener loved and removed: the model before there is a model.

With a handful of ratings - often likes only - a classifier learns noise or
cannot be fitted at all (one class).  The cold start instead asks how close a
track is to the tracks the listener loved, and to the ones they removed or
rated low, in standardised feature space:

    S+ = sum of k(x, loved track),   S- = sum of k(x, unloved track)
    p  = (S+ + a * p0) / (S+ + S- + a)

with a Gaussian kernel ``k = exp(-d^2 / 2h^2)`` (``h``: the median distance
from a rated track to its nearest rated neighbour, but at least half the
median distance between rated tracks, so the vote is local without every
unfamiliar track falling to exactly the prior), a prior ``p0`` of 0.25 (a Bach recording picked at
random is taken to be loved one time in four) worth ``a`` = 1 track.  A track
identical to a liked one moves well above the prior, a track next to a
removed one well below it, and a track unlike anything rated stays at the
prior, so a likes-only listener gets tracks ranked by similarity to their
likes, never a constant score.  Every positive and every negative counts;
no ordering of ids decides anything.

``spread`` is the standard deviation of the Beta distribution those counts
describe: large where few rated tracks are near, small in well-rated
neighbourhoods.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin

Array = NDArray[np.float64]

PRIOR = 0.25
STRENGTH = 1.0


class ColdStartClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Kernel-weighted vote of the rated tracks, shrunk to a prior (see the module)."""

    def __init__(self, prior: float = PRIOR, strength: float = STRENGTH) -> None:
        self.prior = prior
        self.strength = strength

    def fit(self, X: Array, y: NDArray[np.int64]) -> ColdStartClassifier:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y).astype(np.int64)
        if len(y) == 0:
            raise ValueError("the cold start needs at least one rated track")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            centre = np.nanmedian(X, axis=0)
            scale = np.nanstd(X, axis=0)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        self.usable_ = np.isfinite(centre)
        self.centre_ = np.where(self.usable_, centre, 0.0)
        self.scale_ = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        Z = self._standardise(X)
        self.loved_ = Z[y == 1]
        self.unloved_ = Z[y == 0]
        self.bandwidth_ = _bandwidth(_pairwise(Z, Z))
        return self

    def _standardise(self, X: Array) -> Array:
        Z = (np.asarray(X, dtype=float) - self.centre_) / self.scale_
        Z = np.where(np.isnan(Z), 0.0, Z)  # missing -> the rated tracks' median
        return Z[:, self.usable_]

    def _evidence(self, X: Array) -> tuple[Array, Array]:
        Z = self._standardise(X)
        return self._kernel_sum(Z, self.loved_), self._kernel_sum(Z, self.unloved_)

    def _kernel_sum(self, Z: Array, ref: Array) -> Array:
        if len(ref) == 0 or Z.shape[1] == 0:
            return np.zeros(len(Z))
        d = _pairwise(Z, ref)
        return np.asarray(np.exp(-(d**2) / (2 * self.bandwidth_**2)).sum(axis=1), dtype=float)

    def predict_proba(self, X: Array) -> Array:
        pos, neg = self._evidence(X)
        p = (pos + self.strength * self.prior) / (pos + neg + self.strength)
        return np.column_stack([1 - p, p])

    def predict(self, X: Array) -> NDArray[np.int64]:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def spread(self, X: Array) -> Array:
        """SD of Beta(S+ + a p0, S- + a (1 - p0)): how much evidence is near."""
        pos, neg = self._evidence(X)
        total = pos + neg + self.strength
        p = (pos + self.strength * self.prior) / total
        return np.sqrt(p * (1 - p) / (total + 1))


def _bandwidth(dists: Array) -> float:
    """Median nearest-neighbour distance, floored at half the median distance."""
    positive = dists[dists > 0]
    if positive.size == 0:
        return 1.0
    others = np.where(dists > 0, dists, np.inf)
    nearest = others.min(axis=1)
    nearest = nearest[np.isfinite(nearest)]
    local = float(np.median(nearest)) if nearest.size else 0.0
    return max(local, 0.5 * float(np.median(positive)))


def _pairwise(A: Array, B: Array) -> Array:
    """Euclidean distances, in blocks small enough for 50,000 candidates."""
    out = np.empty((len(A), len(B)))
    b2 = (B**2).sum(axis=1)
    for start in range(0, len(A), 4096):
        block = A[start : start + 4096]
        sq = (block**2).sum(axis=1)[:, None] + b2[None, :] - 2 * block @ B.T
        out[start : start + 4096] = np.sqrt(np.maximum(sq, 0.0))
    return out
