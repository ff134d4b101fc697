"""The taste model: one scikit-learn ``Pipeline`` from raw descriptors to a rating.

    impute (median, + missing indicators) -> scale (standard; quantile for skewed
    columns) -> reduce (``lda`` on rating classes | ``pca`` to 99 % variance |
    ``none``) -> MLPRegressor (target standardised)

Everything that learns from data sits inside the pipeline, so cross-validation
refits the imputer, the scaler and above all the LDA per training fold.  The seed
fitted LDA on all 100 tracks before cross-validating, which let each test fold's
labels shape the features it was scored on; :mod:`models.evaluate` keeps that
variant only as a demonstration of the leak.

The grid and the option of a quick grid for tests live here too, because they are
the pipeline's parameters.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

Array = NDArray[np.float64]
ReducerKind = Literal["lda", "pca", "none"]
REDUCERS: tuple[ReducerKind, ...] = ("lda", "pca", "none")

SEED_PARAMS: dict[str, Any] = {
    "reduce__kind": "lda",
    "model__regressor__activation": "logistic",
    "model__regressor__hidden_layer_sizes": (2, 2),
}
"""The seed's winning configuration (it also used max_iter=20000 with adam)."""


@contextmanager
def quiet_fit() -> Iterator[None]:
    """Silence the warnings small-data fits raise by design.

    An MLP stopped at ``max_iter`` (ConvergenceWarning) and LDA on collinear
    descriptors ("Variables are collinear") are expected on 15-100 ratings; the
    nested score, not the warning, says whether the model is any good.  sklearn
    forwards the active filters to its joblib workers, so wrapping the top-level
    call is enough.

    It also pins BLAS and OpenMP to one thread: the matrices here are tiny, and
    threads spinning per fit made training twice as slow on two cores (BLAS in
    the MLP, OpenMP in the gradient-boosted trees' binning); parallelism comes
    from running outer folds in separate processes instead.
    """
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="Variables are collinear")
        warnings.filterwarnings("ignore", message="n_quantiles .* is greater than")
        # A provider block with no values at all (no audio features) is expected.
        warnings.filterwarnings("ignore", message="Skipping features without any observed")
        yield


def rating_classes(y: Array, *, max_bins: int = 10) -> NDArray[np.int64]:
    """Turn a rating target into class labels LDA can separate.

    Whole-number ratings (the user's 1-10) are their own classes.  Any other
    target (a ``--dataset`` column such as popularity in 0-1) is cut into up to
    ``max_bins`` quantile bins, because rounding it would leave one class.
    Classes with a single member are merged into their nearest neighbour, since
    LDA needs at least two samples per class to estimate a within-class scatter.
    """
    y = np.asarray(y, dtype=float)
    if np.allclose(y, np.rint(y)):
        labels = np.rint(y).astype(np.int64)
    else:
        edges = np.unique(np.quantile(y, np.linspace(0, 1, max_bins + 1)[1:-1]))
        labels = np.searchsorted(edges, y, side="right").astype(np.int64)
    values, counts = np.unique(labels, return_counts=True)
    mapping = {int(v): int(v) for v in values}
    groups: list[list[int]] = [[int(v)] for v in values]
    sizes = [int(c) for c in counts]
    while len(groups) > 1 and min(sizes) < 2:
        i = int(np.argmin(sizes))
        j = i - 1 if i == len(groups) - 1 else i + 1
        if 0 < i < len(groups) - 1 and sizes[i - 1] <= sizes[i + 1]:
            j = i - 1
        lo, hi = min(i, j), max(i, j)
        groups[lo] = groups[lo] + groups[hi]
        sizes[lo] += sizes[hi]
        del groups[hi], sizes[hi]
    for index, group in enumerate(groups):
        for value in group:
            mapping[value] = index
    return np.array([mapping[int(v)] for v in labels], dtype=np.int64)


class Reducer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Dimensionality reduction chosen by one grid parameter, ``kind``.

    ``lda`` fits LinearDiscriminantAnalysis on :func:`rating_classes` of the
    target (so it needs ``y``, which is why it is wrapped rather than used
    directly); ``pca`` keeps components up to ``variance`` of cumulative
    explained variance, as the seed did; ``none`` passes features through.
    With fewer than two classes LDA has nothing to separate and passes through.
    """

    def __init__(self, kind: ReducerKind = "lda", variance: float = 0.99) -> None:
        self.kind = kind
        self.variance = variance

    def fit(self, X: Array, y: Array | None = None) -> Reducer:
        X = np.asarray(X, dtype=float)
        self.n_features_in_ = X.shape[1]
        self.transformer_: Any = None
        if self.kind == "pca" and X.shape[1] > 1 and X.shape[0] > 1:
            self.transformer_ = PCA(n_components=self.variance, svd_solver="full").fit(X)
        elif self.kind == "lda":
            if y is None:
                raise ValueError("the LDA reducer needs the ratings (y) to fit")
            classes = rating_classes(np.asarray(y, dtype=float))
            n_classes = len(np.unique(classes))
            if n_classes >= 2 and X.shape[0] > n_classes and X.shape[1] >= 1:
                n_components = min(n_classes - 1, X.shape[1])
                self.transformer_ = LinearDiscriminantAnalysis(
                    solver="svd", n_components=n_components
                ).fit(X, classes)
        elif self.kind not in REDUCERS:
            raise ValueError(f"unknown reducer {self.kind!r}; use one of {REDUCERS}")
        return self

    def transform(self, X: Array) -> Array:
        X = np.asarray(X, dtype=float)
        if self.transformer_ is None:
            return X
        return np.asarray(self.transformer_.transform(X), dtype=float)


class MedianImputer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Median imputation plus 0/1 missing indicators, in one numpy pass.

    Same result as ``SimpleImputer(strategy="median", add_indicator=True,
    keep_empty_features=True)`` (an all-missing column becomes 0), but without
    its repeated validation copies: scoring 50,000 tracks through eleven
    pipelines spent most of its time there.  Indicators are added for the
    columns that had missing values in training.
    """

    def __init__(self, add_indicator: bool = True) -> None:
        self.add_indicator = add_indicator

    def fit(self, X: Array, y: Array | None = None) -> MedianImputer:
        X = np.asarray(X, dtype=float)
        self.n_features_in_ = X.shape[1]
        missing = np.isnan(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column
            median = np.nanmedian(X, axis=0) if len(X) else np.zeros(X.shape[1])
        self.statistics_ = np.where(np.isnan(median), 0.0, median)
        self.indicator_columns_ = (
            np.flatnonzero(missing.any(axis=0)) if self.add_indicator else np.empty(0, int)
        )
        return self

    def transform(self, X: Array) -> Array:
        X = np.asarray(X, dtype=float)
        missing = np.isnan(X)
        p = X.shape[1]
        out = np.empty((X.shape[0], p + self.indicator_columns_.size))
        np.copyto(out[:, :p], X)
        np.copyto(out[:, :p], np.broadcast_to(self.statistics_, X.shape), where=missing)
        out[:, p:] = missing[:, self.indicator_columns_]
        return out


class SkewAwareScaler(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Standardise each column; map strongly skewed ones through their quantiles first.

    Spotify's instrumentalness, speechiness and duration pile up at one end, so a
    z-score leaves most tracks squeezed together and a few far out.  Columns whose
    absolute skewness exceeds ``skew_threshold`` (and that have more than two
    distinct values, which excludes the imputer's 0/1 missing indicators) are
    mapped to normal scores through their training quantiles (what
    QuantileTransformer(output_distribution="normal") does, but with
    ``scipy.special.ndtri`` instead of a per-column ``norm.ppf``, which was the
    slowest step of training); then every column is standardised.
    """

    def __init__(self, skew_threshold: float = 2.0, n_quantiles: int = 200) -> None:
        self.skew_threshold = skew_threshold
        self.n_quantiles = n_quantiles

    def fit(self, X: Array, y: Array | None = None) -> SkewAwareScaler:
        X = np.asarray(X, dtype=float)
        self.n_features_in_ = X.shape[1]
        centred = X - X.mean(axis=0)
        std = X.std(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            skew = np.where(std > 0, (centred**3).mean(axis=0) / std**3, 0.0)
        lowest, highest = X.min(axis=0), X.max(axis=0)
        more_than_two = ((lowest < X) & (highest > X)).any(axis=0)
        self.skewed_ = np.flatnonzero((np.abs(skew) > self.skew_threshold) & more_than_two)
        levels = np.linspace(0.0, 1.0, max(2, min(self.n_quantiles, X.shape[0])))
        self.references_ = levels
        self.quantiles_ = np.quantile(X[:, self.skewed_], levels, axis=0)
        mapped = self._quantiled(X)
        self.mean_ = mapped.mean(axis=0)
        spread = mapped.std(axis=0)
        self.scale_ = np.where(spread > 0, spread, 1.0)
        return self

    def _quantiled(self, X: Array) -> Array:
        out = X.copy()
        bound = 1e-7
        for k, j in enumerate(self.skewed_):
            q = self.quantiles_[:, k]
            # Average of the forward and backward interpolation, as sklearn does, so
            # tied values (a repeated median) map to the middle of their quantile run.
            u = 0.5 * (
                np.interp(X[:, j], q, self.references_)
                - np.interp(-X[:, j], -q[::-1], -self.references_[::-1])
            )
            out[:, j] = ndtri(np.clip(u, bound, 1 - bound))
        return out

    def transform(self, X: Array) -> Array:
        out = self._quantiled(np.asarray(X, dtype=float))
        out -= self.mean_
        out /= self.scale_
        return out


@dataclass(frozen=True)
class ModelOptions:
    """How hard to search: the grid, the inner folds, the MLP's iteration budget.

    ``fast`` is a three-point grid with short fits for tests and the cold laptop;
    the default grid is sized so that 100 ratings train in a few seconds and
    1,000 in under a minute on two cores (see ``bench/``).
    """

    seed: int = 0
    outer_splits: int = 5
    outer_repeats: int = 2
    inner_splits: int = 3
    max_iter: int = 300
    fast: bool = False
    n_jobs: int = 1
    augment: bool = False
    """Also run the seed's "+1/4 artificial data" experiment (training folds only)."""
    choose: Literal["mlp", "auto"] = "mlp"
    grid: Mapping[str, Sequence[Any]] | None = field(default=None)

    def param_grid(self) -> list[dict[str, list[Any]]]:
        """The inner search space (a list of sub-grids, as GridSearchCV accepts).

        Default: every reducer x {logistic (2, 2), logistic (8,)} x alpha {0.1, 3}
        plus relu (8,) -- 15 points.  Measured on two cores the full grid of 24
        (relu with every size and alpha) took 14 s for 100 ratings; relu (2, 2)
        mostly dies on small data anyway.
        """
        if self.grid is not None:
            return [{key: list(values) for key, values in self.grid.items()}]
        reducers: list[Any] = list(REDUCERS)
        if self.fast:
            return [
                {
                    "reduce__kind": reducers,
                    "model__regressor__activation": ["logistic"],
                    "model__regressor__hidden_layer_sizes": [(2, 2)],
                    "model__regressor__alpha": [0.1],
                }
            ]
        return [
            {
                "reduce__kind": reducers,
                "model__regressor__activation": ["logistic"],
                "model__regressor__hidden_layer_sizes": [(2, 2), (8,)],
                "model__regressor__alpha": [0.1, 3.0],
            },
            {
                "reduce__kind": reducers,
                "model__regressor__activation": ["relu"],
                "model__regressor__hidden_layer_sizes": [(8,)],
                "model__regressor__alpha": [1.0],
            },
        ]

    @property
    def effective_max_iter(self) -> int:
        return min(self.max_iter, 200) if self.fast else self.max_iter


def build_pipeline(*, reducer: ReducerKind = "lda", seed: int = 0, max_iter: int = 300) -> Pipeline:
    """The seed's model (LDA + MLP(2, 2), logistic) with every learning step inside.

    lbfgs instead of the seed's adam: on a few hundred samples it converges in a
    few hundred iterations where adam needed 20,000, and it is deterministic.
    The target is standardised so ``alpha`` means the same on any rating scale.
    """
    mlp = MLPRegressor(
        hidden_layer_sizes=(2, 2),
        activation="logistic",
        solver="lbfgs",
        alpha=0.1,
        max_iter=max_iter,
        early_stopping=False,
        random_state=seed,
    )
    return Pipeline(
        [
            (
                "impute",
                MedianImputer(),
            ),
            ("scale", SkewAwareScaler()),
            ("reduce", Reducer(kind=reducer)),
            ("model", TransformedTargetRegressor(regressor=mlp, transformer=StandardScaler())),
        ]
    )


def _preprocess() -> list[tuple[str, Any]]:
    return [
        ("impute", MedianImputer()),
        ("scale", SkewAwareScaler()),
    ]


def baselines(*, seed: int = 0, n_train: int = 100) -> dict[str, Pipeline]:
    """The yardsticks the MLP must beat, each behind the same impute + scale steps.

    ``n_train`` is the smallest training fold, so k-nearest-neighbours never asks
    for more neighbours than a fold holds.
    """
    k = max(1, min(5, n_train - 1))
    return {
        "mean": Pipeline([("model", DummyRegressor(strategy="mean"))]),
        "ridge": Pipeline([*_preprocess(), ("model", Ridge(alpha=1.0))]),
        "knn": Pipeline([*_preprocess(), ("model", KNeighborsRegressor(n_neighbors=k))]),
        "hgb": Pipeline(
            [
                (
                    "impute",
                    MedianImputer(),
                ),
                (
                    "model",
                    HistGradientBoostingRegressor(
                        max_iter=50, max_depth=3, min_samples_leaf=5, random_state=seed
                    ),
                ),
            ]
        ),
    }


def describe_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Grid parameters with the pipeline prefixes dropped, JSON-friendly (tuples -> lists)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        short = key.split("__")[-1]
        out[short] = list(value) if isinstance(value, tuple) else value
    return out


def restore_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`describe_params` for the MLP family (lists back to tuples)."""
    names = {
        "kind": "reduce__kind",
        "activation": "model__regressor__activation",
        "hidden_layer_sizes": "model__regressor__hidden_layer_sizes",
        "alpha": "model__regressor__alpha",
    }
    out: dict[str, Any] = {}
    for key, value in params.items():
        full = names.get(key, key)
        out[full] = tuple(value) if isinstance(value, list) else value
    return out


class JitterAugmented(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """The seed's "+1/4 artificial data", done inside the training fold only.

    ``fit`` adds ``fraction`` x n jittered copies of randomly drawn training rows
    (Gaussian noise of ``noise`` x each column's spread; labels copied) and fits
    ``estimator`` on the enlarged set.  Because it happens in ``fit``, the test
    fold never contributes a copy of itself, which is how the seed's 0.8 could
    have been inflated.
    """

    def __init__(
        self, estimator: Any = None, fraction: float = 0.25, noise: float = 0.05, seed: int = 0
    ) -> None:
        self.estimator = estimator
        self.fraction = fraction
        self.noise = noise
        self.seed = seed

    def fit(self, X: Array, y: Array) -> JitterAugmented:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        rng = np.random.default_rng(self.seed)
        n_extra = int(np.ceil(self.fraction * len(y)))
        rows = rng.integers(0, len(y), size=n_extra)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column -> NaN spread
            spread = np.nan_to_num(np.nanstd(X, axis=0), nan=0.0)
        extra = X[rows] + rng.normal(size=(n_extra, X.shape[1])) * spread * self.noise
        base = self.estimator if self.estimator is not None else build_pipeline()
        self.estimator_ = clone(base).fit(np.vstack([X, extra]), np.concatenate([y, y[rows]]))
        return self

    def predict(self, X: Array) -> Array:
        return np.asarray(self.estimator_.predict(X), dtype=float)


@dataclass
class TasteModel:
    """A trained model as bachbot keeps it: the final fit plus the outer-fold fits.

    ``final`` (refit on every rating) gives the score; the spread of the
    outer-fold models' predictions (first repeat: k models that together saw
    every rating k-1 times) gives the uncertainty, i.e. how much the
    answer depends on which ratings the model happened to see.  Scores are
    clipped to the range of ratings it learnt from, so a track unlike anything
    rated cannot be predicted as an 11.
    """

    name: str
    final: Any
    fold_models: list[Any]
    columns: tuple[str, ...]
    params: dict[str, Any]
    y_range: tuple[float, float]
    kind: str = "mlp"

    def predict_with_uncertainty(self, X: Array) -> tuple[Array, Array]:
        X = np.asarray(X, dtype=float)
        lo, hi = self.y_range
        scores = np.clip(np.asarray(self.final.predict(X), dtype=float), lo, hi)
        if len(self.fold_models) < 2:
            return scores, np.full(len(scores), np.nan)
        stacked = np.vstack([np.clip(m.predict(X), lo, hi) for m in self.fold_models])
        return scores, stacked.std(axis=0)


SCORE_BLOCK = 2048


class Scorer(Protocol):
    """Anything the score job can use: a trained model or the cold-start fallback."""

    kind: str
    columns: tuple[str, ...]

    def predict_with_uncertainty(self, X: Array) -> tuple[Array, Array]: ...


def score(model: Scorer, X: Array) -> tuple[Array, Array]:
    """(score, uncertainty) per row of ``X``; columns must be ``model.columns``."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != len(model.columns):
        raise ValueError(
            f"feature matrix has shape {X.shape}, the model expects {len(model.columns)} "
            "columns; rebuild the matrix with the model's feature schema"
        )
    if len(X) == 0:
        return np.empty(0), np.empty(0)
    scores, spread = np.empty(len(X)), np.empty(len(X))
    with quiet_fit():
        # Blocks keep each pipeline's intermediate matrices small and reused; one
        # 50,000-row pass spent most of its time allocating fresh memory.
        for start in range(0, len(X), SCORE_BLOCK):
            block = slice(start, start + SCORE_BLOCK)
            scores[block], spread[block] = model.predict_with_uncertainty(X[block])
    return scores, spread
