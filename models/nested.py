"""Nested cross-validation: every choice is made inside the fold that scores it.

For each outer fold, and using only that fold's training rows:

1. an inner, grouped and stratified K-fold scores every configuration that
   has a choice to make (the MLP grid; with ``auto``, every eligible
   configuration of every family);
2. each family takes its best configuration by inner score (a family of one
   configuration takes that one), and ``auto`` takes the best of all;
3. each chosen configuration is fitted on the outer training rows and
   predicts the outer test rows.

So the outer test fold never influences a reducer, a scaler, a grid point or
the choice between families, and the number reported for ``auto`` is the
outer score of the whole choosing procedure, winner's curse included.  All
families share the outer folds, so their per-fold scores can be compared
pairwise.

Regression (the study's R2 on explicit ratings) runs through the same loop
with R2's negative MSE as the inner criterion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.utils.parallel import Parallel, delayed

from models.candidates import Config, Family, build
from models.folds import IntArray, Split, regression_splits, stratified_splits
from models.metrics import roc_auc
from models.options import ModelOptions
from models.pipeline import Array, positive_proba, quiet_fit
from models.workers import worker_backend

TaskKind = Literal["classification", "regression"]
Target = NDArray[Any]
"""0/1 labels for a classification, values for a regression."""
AUTO = "auto"
Progress = Callable[[str], None]


def predict(kind: TaskKind, model: Any, X: Array) -> Array:
    """P(loved) for a classifier, the prediction for a regressor."""
    if kind == "classification":
        return positive_proba(model, X)
    return np.asarray(model.predict(X), dtype=float)


def selection_score(kind: TaskKind, y: Target, pred: Array) -> float:
    """What the inner loop maximises: ROC AUC, or -MSE for a regression."""
    if kind == "classification":
        return roc_auc(y.astype(np.int64), pred)
    return -float(np.mean((y - pred) ** 2))


def inner_splits(
    kind: TaskKind, y: Target, groups: IntArray, options: ModelOptions, seed: int
) -> list[Split]:
    if kind == "classification":
        return stratified_splits(
            y.astype(np.int64), groups, n_splits=options.inner_splits, n_repeats=1, seed=seed
        )
    return regression_splits(len(y), groups, n_splits=options.inner_splits, n_repeats=1, seed=seed)


def inner_scores(
    X: Array,
    y: Target,
    groups: IntArray,
    configs: Sequence[Config],
    *,
    kind: TaskKind,
    options: ModelOptions,
    seed: int,
) -> dict[Config, float]:
    """Mean inner-fold score of each configuration, on the rows given only."""
    splits = inner_splits(kind, y, groups, options, seed)
    totals: dict[Config, list[float]] = {c: [] for c in configs}
    for split in splits:
        for config in configs:
            model = build(config, options=options, n_train=len(split.train))
            model.fit(X[split.train], y[split.train])
            pred = predict(kind, model, X[split.test])
            totals[config].append(selection_score(kind, y[split.test], pred))
    return {
        c: float(np.nanmean(v)) if np.isfinite(v).any() else -math.inf for c, v in totals.items()
    }


def best(configs: Sequence[Config], scores: dict[Config, float]) -> Config:
    """The configuration with the best inner score; the first listed wins a tie."""
    if len(configs) == 1:
        return configs[0]
    return max(configs, key=lambda c: (scores.get(c, -math.inf), -configs.index(c)))


def choose(
    X: Array,
    y: Target,
    groups: IntArray,
    configs: Sequence[Config],
    *,
    kind: TaskKind,
    options: ModelOptions,
    seed: int,
) -> tuple[Config, dict[Config, float]]:
    """One family's (or ``auto``'s) choice on the rows given, and the inner scores."""
    if len(configs) == 1:
        return configs[0], {}
    scores = inner_scores(X, y, groups, configs, kind=kind, options=options, seed=seed)
    return best(configs, scores), scores


@dataclass
class FoldOutcome:
    """What one family did on one outer fold."""

    repeat: int
    fold: int
    test_index: IntArray
    config: Config
    prediction: Array
    train_score: float
    """The inner criterion on the fold's own training rows (for the overfitting gap)."""


@dataclass
class NestedRun:
    """Every family's outer-fold outcomes on shared splits."""

    kind: TaskKind
    splits: list[Split]
    outcomes: dict[str, list[FoldOutcome]]
    kept_models: list[Any] = field(default_factory=list)
    """The fitted fold models of the kept family, first repeat (they partition the rows)."""


def _outer_fold(
    X: Array,
    y: Target,
    groups: IntArray,
    split: Split,
    families: Sequence[Family],
    auto: Sequence[Config],
    kind: TaskKind,
    options: ModelOptions,
    keep: str | None,
) -> tuple[dict[str, FoldOutcome], Any]:
    tr, te = split.train, split.test
    seed = options.seed + 1 + 1000 * split.repeat + split.fold
    with quiet_fit():
        need = {c for f in families if len(f.configs) > 1 for c in f.configs}
        need.update(auto if len(auto) > 1 else ())
        ordered = sorted(need)
        scores = (
            inner_scores(X[tr], y[tr], groups[tr], ordered, kind=kind, options=options, seed=seed)
            if ordered
            else {}
        )
        chosen = {f.name: best(f.configs, scores) for f in families}
        if auto:
            chosen[AUTO] = best(list(auto), scores)
        fitted: dict[Config, Any] = {}
        out: dict[str, FoldOutcome] = {}
        for name, config in chosen.items():
            if config not in fitted:
                model = build(config, options=options, n_train=len(tr))
                fitted[config] = model.fit(X[tr], y[tr])
            model = fitted[config]
            out[name] = FoldOutcome(
                repeat=split.repeat,
                fold=split.fold,
                test_index=te,
                config=config,
                prediction=predict(kind, model, X[te]),
                train_score=selection_score(kind, y[tr], predict(kind, model, X[tr])),
            )
    kept = fitted[chosen[keep]] if keep is not None and split.repeat == 0 else None
    return out, kept


def run_nested(
    X: Array,
    y: Target,
    *,
    groups: IntArray,
    splits: Sequence[Split],
    families: Sequence[Family],
    auto: Sequence[Config] = (),
    kind: TaskKind = "classification",
    options: ModelOptions,
    keep: str | None = None,
    progress: Progress | None = None,
) -> NestedRun:
    """Run the nested loop for every family (and ``auto`` if given) on ``splits``."""
    say = progress or (lambda _line: None)
    jobs = (
        delayed(_outer_fold)(X, y, groups, s, families, auto, kind, options, keep) for s in splits
    )
    results: list[tuple[dict[str, FoldOutcome], Any]] = []
    with quiet_fit():
        for done, result in enumerate(
            Parallel(n_jobs=options.n_jobs, return_as="generator", backend=worker_backend())(jobs),
            start=1,
        ):
            results.append(result)
            say(f"outer fold {done}/{len(splits)} done")
    names = list(results[0][0]) if results else []
    return NestedRun(
        kind=kind,
        splits=list(splits),
        outcomes={name: [r[0][name] for r in results] for name in names},
        kept_models=[r[1] for r in results if r[1] is not None],
    )


def out_of_fold(outcomes: Sequence[FoldOutcome], n: int) -> tuple[Array, NDArray[np.int64]]:
    """Pooled out-of-fold predictions of all repeats, and each one's fold id.

    Row ``i`` of repeat ``r`` sits at ``r * n + i``; fold ids are unique per
    (repeat, fold).
    """
    repeats = 1 + max((o.repeat for o in outcomes), default=0)
    pred = np.full(repeats * n, np.nan)
    fold_of = np.full(repeats * n, -1, dtype=np.int64)
    folds_per_repeat = 1 + max((o.fold for o in outcomes), default=0)
    for o in outcomes:
        pred[o.repeat * n + o.test_index] = o.prediction
        fold_of[o.repeat * n + o.test_index] = o.repeat * folds_per_repeat + o.fold
    return pred, fold_of
