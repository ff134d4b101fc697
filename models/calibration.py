"""Turning a classifier's scores into probabilities that mean what they say.

An MLP with weight decay, a random forest or a k-NN vote all rank tracks
well but their raw "probabilities" are squeezed or stretched.  bachbot shows
"87% likely to be loved", so the raw score goes through a Platt map
(logistic regression on the logit of the score), fitted on *out-of-fold*
predictions: the nested cross-validation already predicted every rating with
a model that never saw it, which is exactly what scikit-learn's
``CalibratedClassifierCV(ensemble=False)`` would compute again at k times the
cost.

How well calibrated the result is gets measured honestly too: each test
fold's probabilities are calibrated by a map fitted on the *other* folds'
predictions (cross-fitting), then scored (Brier, log loss, a reliability
table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, logit

Array = NDArray[np.float64]
EPS = 1e-4


@dataclass(frozen=True)
class Platt:
    """``p = expit(a * logit(raw) + b)``; the identity is ``a=1, b=0``."""

    a: float = 1.0
    b: float = 0.0

    def __call__(self, raw: Array) -> Array:
        z = logit(np.clip(np.asarray(raw, dtype=float), EPS, 1 - EPS))
        return np.asarray(expit(self.a * z + self.b), dtype=float)

    def to_dict(self) -> dict[str, float]:
        return {"a": round(self.a, 6), "b": round(self.b, 6)}


IDENTITY = Platt()


def fit_platt(raw: Array, y: NDArray[np.int64]) -> Platt:
    """Maximum-likelihood Platt map with Platt's own smoothed targets.

    The targets ``(n+ + 1) / (n+ + 2)`` and ``1 / (n- + 2)`` keep the map finite
    when the scores separate the classes perfectly.  Returns the identity when
    there is nothing to fit (one class, or constant scores).
    """
    raw = np.asarray(raw, dtype=float)
    y = np.asarray(y).astype(int)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if pos == 0 or neg == 0 or np.ptp(raw) == 0:
        return IDENTITY
    z = logit(np.clip(raw, EPS, 1 - EPS))
    t = np.where(y == 1, (pos + 1) / (pos + 2), 1 / (neg + 2))

    def loss(w: Array) -> tuple[float, Array]:
        p = expit(w[0] * z + w[1])
        p = np.clip(p, 1e-12, 1 - 1e-12)
        value = -float(np.sum(t * np.log(p) + (1 - t) * np.log(1 - p)))
        grad_z = p - t
        return value, np.array([float(np.sum(grad_z * z)), float(np.sum(grad_z))])

    result = minimize(loss, x0=np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    a, b = (float(v) for v in result.x)
    if not (math.isfinite(a) and math.isfinite(b)):
        return IDENTITY
    return Platt(a, b)


def cross_fitted(raw: Array, y: NDArray[np.int64], fold_of: NDArray[np.int64]) -> Array:
    """Calibrate each fold's predictions with a map fitted on the other folds'."""
    out = np.empty(len(raw))
    for fold in np.unique(fold_of):
        inside = fold_of == fold
        out[inside] = fit_platt(raw[~inside], y[~inside])(raw[inside])
    return out


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    n: int
    predicted: float
    observed: float


def reliability(prob: Array, y: NDArray[np.int64], *, bins: int = 5) -> list[ReliabilityBin]:
    """Predicted vs observed share of loved tracks in equal-width probability bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(prob, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        if n:
            out.append(
                ReliabilityBin(
                    float(edges[b]),
                    float(edges[b + 1]),
                    n,
                    float(np.mean(prob[inside])),
                    float(np.mean(y[inside])),
                )
            )
    return out


def expected_calibration_error(bins: Sequence[ReliabilityBin]) -> float:
    """Weighted mean |predicted - observed| over the bins (0 = perfectly calibrated)."""
    total = sum(b.n for b in bins)
    if total == 0:
        return math.nan
    return sum(b.n * abs(b.predicted - b.observed) for b in bins) / total
