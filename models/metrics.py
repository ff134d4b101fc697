"""Scores of one test fold, their summary over folds, and paired differences.

Kept apart from model selection (as scikit-learn keeps ``metrics`` apart from
``model_selection``): these functions take labels and predictions and know
nothing about folds, grids or models.

Every number is computed per outer test fold; the summary is the mean over
folds with the fold-to-fold standard deviation (ddof=1, NaN when there is a
single fold).  Two models evaluated on the same folds are compared through
their per-fold differences, with the standard error corrected for the overlap
of training sets between folds (Nadeau and Bengio, 2003): the naive
``sd / sqrt(k)`` treats the folds as independent and is several times too
small, which is how noise used to look like a difference.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

Array = NDArray[np.float64]

CLASSIFICATION_METRICS = ("roc_auc", "precision_at_k", "ndcg_at_k", "brier", "log_loss")
"""Per-fold scores of a classifier; ROC AUC is the one models are chosen on."""
HIGHER_IS_BETTER = {
    "roc_auc": True,
    "precision_at_k": True,
    "ndcg_at_k": True,
    "brier": False,
    "log_loss": False,
    "r2": True,
    "mse": False,
    "mae": False,
    "spearman": True,
}
REGRESSION_METRICS = ("r2", "mse", "mae", "spearman")
LABELS = {
    "roc_auc": "ROC AUC",
    "precision_at_k": "precision@k",
    "ndcg_at_k": "NDCG@k",
    "brier": "Brier",
    "log_loss": "log loss",
    "r2": "R2",
    "mse": "MSE",
    "mae": "MAE",
    "spearman": "Spearman",
}


def top_k(n_test: int, playlist_size: int) -> int:
    """How many of a test fold's tracks stand for "the playlist".

    The playlist size when the fold is large enough, else a fifth of the fold:
    a playlist is a small share of the candidates, and precision at the whole
    fold would only measure the base rate.
    """
    return max(1, min(playlist_size, math.ceil(n_test / 5)))


def roc_auc(y: NDArray[np.int64], score: Array) -> float:
    """Probability that a loved track outranks an unloved one (ties count half)."""
    y = np.asarray(y)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if pos == 0 or neg == 0:
        return math.nan
    ranks = stats.rankdata(score)
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def precision_at_k(y: NDArray[np.int64], score: Array, k: int) -> float:
    """Share of loved tracks among the ``k`` highest scores (stable on ties)."""
    order = np.argsort(-np.asarray(score), kind="stable")[:k]
    return float(np.mean(np.asarray(y)[order])) if len(order) else math.nan


def ndcg_at_k(relevance: Array, score: Array, k: int) -> float:
    """Normalised discounted cumulative gain of the top ``k`` (graded relevance)."""
    rel = np.asarray(relevance, dtype=float)
    order = np.argsort(-np.asarray(score), kind="stable")[:k]
    discounts = 1.0 / np.log2(np.arange(2, len(order) + 2))
    dcg = float(np.sum(rel[order] * discounts))
    ideal = float(np.sum(np.sort(rel)[::-1][: len(order)] * discounts))
    return dcg / ideal if ideal > 0 else math.nan


def brier(y: NDArray[np.int64], prob: Array) -> float:
    return float(np.mean((np.asarray(prob, dtype=float) - np.asarray(y)) ** 2))


def log_loss(y: NDArray[np.int64], prob: Array) -> float:
    p = np.clip(np.asarray(prob, dtype=float), 1e-6, 1 - 1e-6)
    yy = np.asarray(y)
    return float(-np.mean(yy * np.log(p) + (1 - yy) * np.log(1 - p)))


def classification_scores(
    y: NDArray[np.int64], prob: Array, relevance: Array, *, playlist_size: int
) -> dict[str, float]:
    """Every classification metric of one test fold (NaN where undefined)."""
    k = top_k(len(y), playlist_size)
    return {
        "roc_auc": roc_auc(y, prob),
        "precision_at_k": precision_at_k(y, prob, k),
        "ndcg_at_k": ndcg_at_k(relevance, prob, k),
        "brier": brier(y, prob),
        "log_loss": log_loss(y, prob),
    }


def regression_scores(y: Array, pred: Array) -> dict[str, float]:
    """R2, MSE, MAE and Spearman of one test fold (the study's metrics)."""
    y = np.asarray(y, dtype=float)
    pred = np.asarray(pred, dtype=float)
    err = y - pred
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    rho = math.nan
    if np.ptp(y) > 0 and np.ptp(pred) > 0:
        rho = float(stats.spearmanr(y, pred).statistic)
    return {
        "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else math.nan,
        "mse": float(np.mean(err**2)),
        "mae": float(np.mean(np.abs(err))),
        "spearman": rho,
    }


@dataclass(frozen=True)
class Summary:
    """Mean over folds, fold-to-fold SD (ddof=1) and how many folds had a value."""

    mean: float
    sd: float
    n: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {"mean": clean(self.mean), "sd": clean(self.sd), "folds": self.n}


def summarise(values: Sequence[float]) -> Summary:
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return Summary(math.nan, math.nan, 0)
    sd = float(arr.std(ddof=1)) if arr.size > 1 else math.nan
    return Summary(float(arr.mean()), sd, int(arr.size))


def summarise_folds(per_fold: Sequence[Mapping[str, float]]) -> dict[str, Summary]:
    names = list(per_fold[0]) if per_fold else []
    return {name: summarise([fold[name] for fold in per_fold]) for name in names}


@dataclass(frozen=True)
class PairedDifference:
    """Mean per-fold difference ``a - b``, its corrected standard error and p-value."""

    mean: float
    se: float
    t: float
    p: float
    folds: int

    def significant(self, alpha: float = 0.05) -> bool:
        return bool(np.isfinite(self.p) and self.p < alpha)

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "diff": clean(self.mean),
            "se": clean(self.se),
            "t": clean(self.t),
            "p": clean(self.p),
            "folds": self.folds,
        }


def paired_difference(
    a: Sequence[float], b: Sequence[float], *, test_train_ratio: float
) -> PairedDifference:
    """Corrected resampled t-test of ``a - b`` over the same folds.

    ``test_train_ratio`` is n_test / n_train of the folds; the variance of the
    mean difference is ``(1/J + n_test/n_train) * s^2`` over J folds.  With no
    spread at all (identical predictions) the difference is exactly 0 with
    SE 0 and p = 1.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    d = d[np.isfinite(d)]
    j = int(d.size)
    if j == 0:
        return PairedDifference(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(d.mean())
    if j == 1:
        return PairedDifference(mean, math.nan, math.nan, math.nan, 1)
    var = float(d.var(ddof=1))
    se = math.sqrt((1.0 / j + test_train_ratio) * var)
    if se == 0.0:
        return PairedDifference(mean, 0.0, math.nan, 1.0 if mean == 0 else 0.0, j)
    t = mean / se
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(2 * stats.t.sf(abs(t), df=j - 1))
    return PairedDifference(mean, se, t, p, j)


def clean(value: float | None, digits: int = 4) -> float | None:
    """JSON-friendly: NaN and None become None, numbers are rounded for reading."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)
