"""The building blocks of every taste model, and the trained model bachbot keeps.

The study's model, kept first-class, is one scikit-learn ``Pipeline``::

    impute (median, + missing indicators) -> scale (quantile-normal for every
    non-binary column) -> reduce (``lda`` | ``pca`` to 99 % variance | ``none``)
    -> MLP classifier

Everything that learns from data sits inside the pipeline, so cross-validation
refits the imputer, the scaler and above all the LDA per training fold.  The
study fitted LDA on all 100 tracks before cross-validating, which let each test
fold's labels shape the features it was scored on; :mod:`models.study` keeps
that variant only as a demonstration of the leak.  The estimators themselves
are assembled in :mod:`models.candidates`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from models.calibration import IDENTITY, Platt
from models.compiled import CompiledScorer

Array = NDArray[np.float64]
ReducerKind = Literal["lda", "pca", "none"]
REDUCERS: tuple[ReducerKind, ...] = ("lda", "pca", "none")


@cache
def _threadpools() -> Any:
    """The process's BLAS and OpenMP libraries, found once.

    Finding them reads ``/proc/self/maps`` and loads each library's handle:
    about 3 ms, which ``threadpool_limits`` paid on every call - a tenth of
    scoring 500,000 tracks in the score job's blocks.  A library loaded later
    (none is: numpy and scikit-learn are imported before this runs) would
    not be limited.
    """
    return ThreadpoolController()


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
    with warnings.catch_warnings(), _threadpools().limit(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        # A learning-curve or importance fold with one class has no ROC AUC; it is NaN.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
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


class DropEmptyColumns(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Leave out columns with no value at all in training (a provider that never answered).

    Gradient-boosted trees handle missing values themselves, but scikit-learn
    1.9's binning fails on a column that is entirely missing.
    """

    def fit(self, X: Array, y: Array | None = None) -> DropEmptyColumns:
        X = np.asarray(X, dtype=float)
        self.n_features_in_ = X.shape[1]
        self.keep_ = np.flatnonzero(~np.isnan(X).all(axis=0))
        return self

    def transform(self, X: Array) -> Array:
        return np.asarray(X, dtype=float)[:, self.keep_]


class SkewAwareScaler(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Standardise each column; map strongly skewed ones through their quantiles first.

    Spotify's instrumentalness, speechiness and duration pile up at one end, so a
    z-score leaves most tracks squeezed together and a few far out.  Columns whose
    absolute skewness reaches ``skew_threshold`` (default 1: on two public
    liked/disliked tables mapping these gave the MLP the same ROC AUC as mapping
    every column - 0.846 vs 0.847 and 0.850 vs 0.849 - at half the scoring cost,
    and 0.02 more than mapping only |skew| > 2; in all cases only columns with
    more than two distinct values, which excludes the imputer's 0/1 missing
    indicators and one-hot metadata) are
    mapped to normal scores through their training quantiles (what
    QuantileTransformer(output_distribution="normal") does, but with
    ``scipy.special.ndtri`` instead of a per-column ``norm.ppf``, which was the
    slowest step of training); then every column is standardised.
    """

    def __init__(self, skew_threshold: float = 1.0, n_quantiles: int = 200) -> None:
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
        self.skewed_ = np.flatnonzero((np.abs(skew) >= self.skew_threshold) & more_than_two)
        levels = np.linspace(0.0, 1.0, max(2, min(self.n_quantiles, X.shape[0])))
        self.references_ = levels
        self.quantiles_ = np.quantile(X[:, self.skewed_], levels, axis=0)
        self.tied_ = (np.diff(self.quantiles_, axis=0) == 0).any(axis=0)
        mapped = self._quantiled(X)
        self.mean_ = mapped.mean(axis=0)
        spread = mapped.std(axis=0)
        self.scale_ = np.where(spread > 0, spread, 1.0)
        return self

    def _quantiled(self, X: Array) -> Array:
        out = X.copy()
        if len(self.skewed_) == 0:
            return out
        out[:, self.skewed_] = self._normal_scores(X[:, self.skewed_])
        return out

    def _normal_scores(self, values: Array) -> Array:
        """The skewed columns' values (rows x skewed) mapped to normal scores."""
        bound = 1e-7
        U = np.empty(values.shape)
        for k in range(len(self.skewed_)):
            q = self.quantiles_[:, k]
            u = np.interp(values[:, k], q, self.references_)
            if self.tied_[k]:
                # Average of the forward and backward interpolation, as sklearn does, so
                # tied values (a repeated median) map to the middle of their quantile
                # run; without ties both are the same and one pass is enough.
                u = 0.5 * (u - np.interp(-values[:, k], -q[::-1], -self.references_[::-1]))
            U[:, k] = u
        return np.asarray(ndtri(np.clip(U, bound, 1 - bound)), dtype=float)

    def skewed_standardised(self, values: Array) -> Array:
        """What :meth:`transform` gives the skewed columns, from those columns alone."""
        scores = self._normal_scores(np.asarray(values, dtype=float))
        return np.asarray(
            (scores - self.mean_[self.skewed_]) / self.scale_[self.skewed_], dtype=float
        )

    def transform(self, X: Array) -> Array:
        out = self._quantiled(np.asarray(X, dtype=float))
        out -= self.mean_
        out /= self.scale_
        return out


class JitterAugmented(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
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
        y = np.asarray(y)
        rng = np.random.default_rng(self.seed)
        n_extra = int(np.ceil(self.fraction * len(y)))
        rows = rng.integers(0, len(y), size=n_extra)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column -> NaN spread
            spread = np.nan_to_num(np.nanstd(X, axis=0), nan=0.0)
        extra = X[rows] + rng.normal(size=(n_extra, X.shape[1])) * spread * self.noise
        if self.estimator is None:
            raise ValueError("JitterAugmented needs an estimator to fit")
        self.estimator_ = clone(self.estimator).fit(
            np.vstack([X, extra]), np.concatenate([y, y[rows]])
        )
        self.classes_ = getattr(self.estimator_, "classes_", None)
        return self

    def predict(self, X: Array) -> Array:
        return np.asarray(self.estimator_.predict(X))

    def predict_proba(self, X: Array) -> Array:
        return np.asarray(self.estimator_.predict_proba(X), dtype=float)


def positive_proba(estimator: Any, X: Array) -> Array:
    """P(loved) from a fitted classifier, whatever order its classes are in."""
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    classes = list(getattr(estimator, "classes_", [0, 1]))
    if 1 not in classes:
        return np.zeros(len(proba))
    return proba[:, classes.index(1)]


@dataclass
class TasteModel:
    """A trained model as bachbot keeps it: the final fit, its calibration, the fold fits.

    ``final`` is fitted on every rating and gives the probability (through
    ``calibrator``, fitted on the nested out-of-fold predictions).  ``spread``
    is the standard deviation of the outer-fold models' calibrated
    probabilities: how much the answer depends on which ratings the model
    happened to see.  It is a measure of disagreement, not an interval.  A
    model without fold models (the cold start) reports its own spread.
    """

    name: str
    """What was asked for: ``mlp``, ``auto``, ``coldstart``."""
    kind: str
    """What it is: ``mlp``, ``logreg``, ``knn``, ``hgb``, ``rf``, ``prior``, ``coldstart``."""
    config: dict[str, Any]
    final: Any
    columns: tuple[str, ...]
    calibrator: Platt = IDENTITY
    fold_models: list[Any] = field(default_factory=list)

    def predict_with_uncertainty(self, X: Array) -> tuple[Array, Array]:
        X = np.asarray(X, dtype=float)
        spread_from_folds = len(self.fold_models) >= 2
        compiled = self._compiled(with_folds=spread_from_folds)
        if compiled is not None:
            raw = compiled.positive_proba(X)
        else:
            pipelines = [self.final, *(self.fold_models if spread_from_folds else [])]
            raw = [positive_proba(m, X) for m in pipelines]
        prob = self.calibrator(raw[0])
        if spread_from_folds:
            stacked = np.vstack([self.calibrator(p) for p in raw[1:]])
            return prob, stacked.std(axis=0)
        own = getattr(self.final, "spread", None)
        if callable(own):
            return prob, np.asarray(own(X), dtype=float)
        return prob, np.full(len(prob), np.nan)

    def probability(self, X: Array) -> Array:
        """The calibrated probability from the final fit alone (no spread: explanations)."""
        X = np.asarray(X, dtype=float)
        compiled = self._compiled(with_folds=False)
        raw = compiled.positive_proba(X)[0] if compiled else positive_proba(self.final, X)
        return np.asarray(self.calibrator(raw), dtype=float)

    def _compiled(self, *, with_folds: bool) -> CompiledScorer | None:
        """The pipelines folded for fast scoring (:mod:`models.compiled`), built once.

        Kept in the instance, never in the saved artifact (``__getstate__``), so
        an artifact does not depend on this module's shape.
        """
        key = "_compiled_with_folds" if with_folds else "_compiled_final"
        if key not in self.__dict__:
            pipelines = [self.final, *(self.fold_models if with_folds else [])]
            self.__dict__[key] = CompiledScorer.of(pipelines)
        found: CompiledScorer | None = self.__dict__[key]
        return found

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_compiled_with_folds", None)
        state.pop("_compiled_final", None)
        return state


SCORE_BLOCK = 2048


class Scorer(Protocol):
    """Anything the score job can use: a trained model or the cold start."""

    kind: str
    columns: tuple[str, ...]

    def predict_with_uncertainty(self, X: Array) -> tuple[Array, Array]: ...


def score(model: Scorer, X: Array) -> tuple[Array, Array]:
    """(probability loved, spread) per row of ``X``; columns must be ``model.columns``."""
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
