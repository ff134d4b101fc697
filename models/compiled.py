"""Scoring many tracks fast: a model's pipelines folded into one matrix product and small heads.

A trained MLP or logistic-regression pipeline is ``MedianImputer ->
SkewAwareScaler -> Reducer -> estimator``.  Everything from the imputed
matrix to the estimator's first layer is affine, except the few columns the
scaler maps through their quantiles: imputation is ``X0 + M * median`` (``X0``
the matrix with missing values as 0, ``M`` its missing mask), the missing
indicators are columns of ``M``, standardising is a per-column affine map,
PCA and LDA are affine, and so is the first layer (``U @ W1 + b1``).  Their
composition is one matrix, applied to ``[X0, M]``, plus the skewed columns'
mapped values and a constant.  Folded this way, the final fit and the fold
fits a prediction's spread needs (six pipelines) share one matrix product
per block of rows, instead of six passes of imputation, scaling and
reduction over a 300-column matrix - which is what scoring 500,000 tracks
after a retrain (issue 21) spent its time on.  The rest of each pipeline
(the MLP's later layers, the logistic link) runs on its few first-layer
units.

Only what is known to be affine is folded (the reducer is probed and
checked); any other pipeline - trees, k-NN, the cold start, a regression
pipeline - returns None from :func:`compile_pipeline` and is scored as
scikit-learn scores it.  A test holds the two paths to the same
probabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

Array = NDArray[np.float64]
Head = Callable[[Array], Array]
"""First-layer pre-activations (rows x units) -> P(loved) per row."""

ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "identity": lambda h: h,
    "logistic": lambda h: np.asarray(expit(h), dtype=float),
    "tanh": np.tanh,
    "relu": lambda h: np.maximum(h, 0.0),
}


@dataclass(frozen=True)
class Folded:
    """One pipeline as ``[X0, M] @ linear + skewed_values @ skewed + constant`` and a head."""

    linear: Array
    """(2 x input columns, units): rows for ``X0``, then rows for ``M``."""
    skewed_columns: NDArray[np.int64]
    """Input columns the scaler maps through their quantiles (imputed first)."""
    skewed_fill: Array
    """The imputer's medians for those columns."""
    skewed_map: Callable[[Array], Array]
    """Imputed skewed columns -> their standardised values."""
    skewed: Array
    """(skewed columns, units)."""
    constant: Array
    head: Head


def _mlp_head(mlp: MLPClassifier) -> tuple[Array, Array, Head] | None:
    """(first-layer weights, bias, head) of a binary MLP; None if it is not one."""
    if list(getattr(mlp, "classes_", [])) != [0, 1] or mlp.n_outputs_ != 1:
        return None
    if mlp.activation not in ACTIVATIONS or mlp.out_activation_ != "logistic":
        return None
    activation = ACTIVATIONS[mlp.activation]
    coefs, intercepts = list(mlp.coefs_), list(mlp.intercepts_)

    def head(h: Array) -> Array:
        for weights, bias in zip(coefs[1:], intercepts[1:], strict=True):
            h = activation(h) @ weights + bias
        return np.asarray(expit(h[:, 0]), dtype=float)

    if len(coefs) == 1:  # no hidden layer: the first layer is the output
        return coefs[0], intercepts[0], lambda h: np.asarray(expit(h[:, 0]), dtype=float)
    return coefs[0], intercepts[0], head


def _logreg_head(model: LogisticRegression) -> tuple[Array, Array, Head] | None:
    if list(getattr(model, "classes_", [])) != [0, 1] or model.coef_.shape[0] != 1:
        return None
    return model.coef_.T, model.intercept_, lambda h: np.asarray(expit(h[:, 0]), dtype=float)


def _affine(transform: Callable[[Array], Array], width: int) -> tuple[Array, Array] | None:
    """(matrix, offset) of ``transform`` if it is affine on ``width`` columns (probed)."""
    zero = np.asarray(transform(np.zeros((1, width))), dtype=float)[0]
    matrix = np.asarray(transform(np.eye(width)), dtype=float) - zero
    probe = np.random.default_rng(0).normal(size=(4, width))
    if not np.allclose(transform(probe), probe @ matrix + zero, rtol=1e-9, atol=1e-9):
        return None
    return matrix, zero


def compile_pipeline(pipeline: Any) -> Folded | None:
    """Fold a fitted pipeline (see the module); None when it is not of the foldable kind."""
    from models.pipeline import JitterAugmented, MedianImputer, Reducer, SkewAwareScaler

    if isinstance(pipeline, JitterAugmented):
        pipeline = pipeline.estimator_
    if not isinstance(pipeline, Pipeline):
        return None
    steps = [step for _, step in pipeline.steps]
    if len(steps) not in (3, 4) or not isinstance(steps[0], MedianImputer):
        return None
    imputer, scaler, estimator = steps[0], steps[1], steps[-1]
    reducer = steps[2] if len(steps) == 4 else None
    if not isinstance(scaler, SkewAwareScaler):
        return None
    if reducer is not None and not isinstance(reducer, Reducer):
        return None
    if isinstance(estimator, MLPClassifier):
        found = _mlp_head(estimator)
    elif isinstance(estimator, LogisticRegression):
        found = _logreg_head(estimator)
    else:
        return None
    if found is None:
        return None
    first, bias, head = found
    p = int(imputer.n_features_in_)
    indicators = np.asarray(imputer.indicator_columns_, dtype=np.int64)
    width = p + indicators.size  # the scaler's columns
    if reducer is None or reducer.transformer_ is None:
        middle = np.eye(width)
        offset = np.zeros(width)
    else:
        affine = _affine(reducer.transform, width)
        if affine is None:
            return None
        middle, offset = affine
    weights = middle @ first  # scaler output -> first-layer units
    constant = offset @ first + bias
    skewed = np.asarray(scaler.skewed_, dtype=np.int64)
    if np.any(skewed >= p):  # an indicator column mapped through quantiles: not expected
        return None
    plain = np.ones(width, dtype=bool)
    plain[skewed] = False
    per_unit = weights / scaler.scale_[:, None]  # standardising folded in
    constant = constant - (scaler.mean_[plain] / scaler.scale_[plain]) @ weights[plain]
    per_unit[~plain] = 0.0
    linear = np.zeros((2 * p, weights.shape[1]))
    linear[:p] = per_unit[:p]
    linear[p:] = imputer.statistics_[:, None] * per_unit[:p]
    np.add.at(linear, p + indicators, per_unit[p:])

    return Folded(
        linear=linear,
        skewed_columns=skewed,
        skewed_fill=np.asarray(imputer.statistics_, dtype=float)[skewed],
        skewed_map=scaler.skewed_standardised,
        skewed=weights[skewed],
        constant=constant,
        head=head,
    )


@dataclass(frozen=True)
class CompiledScorer:
    """Several folded pipelines sharing one matrix product per block (see the module)."""

    folded: tuple[Folded, ...]
    linear: Array
    """Every pipeline's ``linear`` side by side."""
    splits: tuple[int, ...]

    @classmethod
    def of(cls, pipelines: Sequence[Any]) -> CompiledScorer | None:
        folded = [compile_pipeline(p) for p in pipelines]
        if not folded or any(f is None for f in folded):
            return None
        done = tuple(f for f in folded if f is not None)
        widths = np.cumsum([f.linear.shape[1] for f in done])[:-1]
        return cls(done, np.hstack([f.linear for f in done]), tuple(int(w) for w in widths))

    def positive_proba(self, X: Array) -> list[Array]:
        """P(loved) of each pipeline, in the order given; same values as scikit-learn's."""
        X = np.asarray(X, dtype=float)
        missing = np.isnan(X)
        both = np.empty((len(X), 2 * X.shape[1]))
        np.copyto(both[:, : X.shape[1]], X)
        both[:, : X.shape[1]][missing] = 0.0
        both[:, X.shape[1] :] = missing
        units = np.split(both @ self.linear, self.splits, axis=1)
        out = []
        for f, h in zip(self.folded, units, strict=True):
            h = h + f.constant
            if f.skewed_columns.size:
                values = X[:, f.skewed_columns]
                values = np.where(np.isnan(values), f.skewed_fill, values)
                h += f.skewed_map(values) @ f.skewed
            out.append(f.head(h))
        return out
