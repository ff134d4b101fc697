"""Honest numbers: nested repeated K-fold for the MLP family and its baselines.

The outer RepeatedKFold produces the score we print; inside each outer training
fold a GridSearchCV (its own K-fold) picks reducer, activation, hidden sizes and
alpha.  So the printed score never saw its test fold, neither through the grid
choice nor through the LDA.  The baselines (mean, ridge, k-NN, gradient-boosted
trees) are fitted on exactly the same outer folds, so the comparison is paired.

Metrics are computed on the out-of-fold predictions pooled per repeat (each
rating predicted once per repeat by a model that never saw it), then averaged
over repeats; per-fold values feed the seed's train-vs-test gap table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, RepeatedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.parallel import Parallel, delayed

from models.pipeline import (
    REDUCERS,
    SEED_PARAMS,
    Array,
    JitterAugmented,
    ModelOptions,
    TasteModel,
    baselines,
    build_pipeline,
    describe_params,
    quiet_fit,
)
from models.registry import NotEnoughData

METRICS = ("r2", "mse", "mae", "spearman")
EXPERIMENT = "mlp+augment"


@dataclass(frozen=True)
class Metrics:
    """Regression metrics (NaN where undefined, e.g. R2 of a constant fold)."""

    r2: float
    mse: float
    mae: float
    spearman: float
    roc_auc: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {k: _clean(v) for k, v in asdict(self).items() if v is not None or k != "roc_auc"}


def _clean(value: float | None) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(float(value), 4)


def compute_metrics(y_true: Array, y_pred: Array, *, binary: bool = False) -> Metrics:
    """R2, MSE, MAE and Spearman (and ROC AUC for a 0/1 target) without warnings."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    err = y_true - y_pred
    mse = float(np.mean(err**2))
    mae = float(np.mean(np.abs(err)))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else math.nan
    rho = math.nan
    if np.ptp(y_true) > 0 and np.ptp(y_pred) > 0:
        rho = float(spearmanr(y_true, y_pred).statistic)
    auc: float | None = None
    if binary:
        auc = math.nan
        if len(np.unique(y_true)) == 2:
            auc = float(roc_auc_score(y_true, y_pred))
    return Metrics(r2=r2, mse=mse, mae=mae, spearman=rho, roc_auc=auc)


def mean_metrics(items: Sequence[Metrics]) -> tuple[Metrics, Metrics]:
    """Mean and standard deviation of each metric, ignoring undefined values."""
    means: dict[str, float | None] = {}
    stds: dict[str, float | None] = {}
    for name in (*METRICS, "roc_auc"):
        values = [getattr(m, name) for m in items]
        if any(v is None for v in values):
            means[name] = stds[name] = None
            continue
        arr = np.array(values, dtype=float)
        arr = arr[~np.isnan(arr)]
        means[name] = float(arr.mean()) if arr.size else math.nan
        stds[name] = float(arr.std()) if arr.size else math.nan
    return Metrics(**means), Metrics(**stds)  # type: ignore[arg-type]


@dataclass
class FoldResult:
    """One candidate on one outer fold."""

    repeat: int
    fold: int
    test_index: NDArray[np.int64]
    y_pred: Array
    train: Metrics
    test: Metrics
    params: dict[str, Any]
    model: Any


@dataclass
class CandidateResult:
    """One candidate across all outer folds: its nested score and its gap."""

    name: str
    family: str
    """``mlp`` (the seed's family), ``baseline`` or ``experiment`` (never chosen)."""
    folds: list[FoldResult]
    nested: Metrics
    nested_std: Metrics
    train: Metrics
    test: Metrics

    @property
    def score(self) -> float:
        """The one number candidates and model versions are compared on: nested R2."""
        return self.nested.r2

    def gap(self) -> dict[str, float | None]:
        """The seed's table: how much worse the test fold is than the training fold, in %."""

        def pct(worse: float, ref: float) -> float | None:
            return None if not ref or math.isnan(ref) else round(100 * worse / abs(ref), 1)

        return {
            "r2_train": _clean(self.train.r2),
            "r2_test": _clean(self.test.r2),
            "r2_gap_pct": pct(self.train.r2 - self.test.r2, self.train.r2),
            "mse_train": _clean(self.train.mse),
            "mse_test": _clean(self.test.mse),
            "mse_gap_pct": pct(self.test.mse - self.train.mse, self.test.mse),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "metrics": self.nested.to_dict(),
            "metrics_std": self.nested_std.to_dict(),
            "gap": self.gap(),
            "params_by_fold": [f.params for f in self.folds],
        }


@dataclass
class Evaluation:
    """Everything the nested cross-validation found; the report and the CLI read it."""

    n_samples: int
    columns: tuple[str, ...]
    options: ModelOptions
    candidates: dict[str, CandidateResult]
    chosen: str
    leaky_seed_protocol: Metrics
    binary: bool = False
    grid_scores: list[dict[str, Any]] = field(default_factory=list)
    final_params: dict[str, Any] = field(default_factory=dict)

    @property
    def chosen_result(self) -> CandidateResult:
        return self.candidates[self.chosen]

    def reducer_table(self) -> list[dict[str, Any]]:
        """PCA vs LDA vs none, each tuned in its own nested loop."""
        return [
            {"reducer": kind, **self.candidates[f"mlp[{kind}]"].nested.to_dict()}
            for kind in REDUCERS
            if f"mlp[{kind}]" in self.candidates
        ]

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: ``chosen`` plus every candidate with nested metrics."""
        chosen = self.chosen_result
        return {
            "n_samples": self.n_samples,
            "n_features": len(self.columns),
            "features": list(self.columns),
            "cv": {
                "outer": f"{self.options.outer_splits}-fold x {self.options.outer_repeats}",
                "inner": f"{self.options.inner_splits}-fold",
                "seed": self.options.seed,
                "metric_pooling": "out-of-fold predictions pooled per repeat, mean over repeats",
            },
            "chosen": {
                "name": chosen.name,
                "family": chosen.family,
                "params": describe_params(self.final_params) if self.final_params else {},
                "metrics": chosen.nested.to_dict(),
                "metrics_std": chosen.nested_std.to_dict(),
                "gap": chosen.gap(),
            },
            "candidates": [c.to_dict() for c in self.candidates.values()],
            "reducers": self.reducer_table(),
            "leaky_seed_protocol": {
                "note": "LDA fitted on all data before cross-validation, as the seed did; "
                "optimistic, shown for comparison only",
                "metrics": self.leaky_seed_protocol.to_dict(),
            },
            "grid": self.grid_scores,
        }


def minimum_samples(options: ModelOptions) -> int:
    """Fewest rows the nested loop can split (every inner fold keeps >= 2 rows)."""
    return max(2 * options.outer_splits, options.outer_splits + options.inner_splits + 2)


def check_data(X: Array, y: Array, options: ModelOptions) -> None:
    """Refuse data the nested loop cannot split, with the count needed."""
    need = minimum_samples(options)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X has shape {X.shape} but y has {len(y)} values")
    if len(y) < need:
        raise NotEnoughData(
            f"{len(y)} ratings are too few for {options.outer_splits}-fold nested "
            f"cross-validation; rate at least {need} tracks (or lower cv_splits)"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError("the target has missing or infinite values; drop those rows first")


def outer_splits(n: int, options: ModelOptions) -> list[tuple[int, int, Any, Any]]:
    """The outer folds as (repeat, fold, train, test); the same for every candidate."""
    cv = RepeatedKFold(
        n_splits=options.outer_splits, n_repeats=options.outer_repeats, random_state=options.seed
    )
    return [
        (i // options.outer_splits, i % options.outer_splits, tr, te)
        for i, (tr, te) in enumerate(cv.split(np.zeros((n, 1))))
    ]


def grid_search(
    X: Array,
    y: Array,
    options: ModelOptions,
    *,
    refit: bool,
    n_jobs: int = 1,
    grid: list[dict[str, list[Any]]] | None = None,
) -> GridSearchCV:
    """The inner loop: every grid point scored by K-fold MSE on the data given."""
    inner = KFold(n_splits=options.inner_splits, shuffle=True, random_state=options.seed + 1)
    search = GridSearchCV(
        build_pipeline(seed=options.seed, max_iter=options.effective_max_iter),
        grid if grid is not None else options.param_grid(),
        cv=inner,
        scoring="neg_mean_squared_error",
        refit=refit,
        n_jobs=n_jobs,
        error_score="raise",
    )
    return search.fit(X, y)


def _best_by_reducer(search: GridSearchCV) -> dict[str, dict[str, Any]]:
    """Best inner params overall (``mlp``) and per reducer (``mlp[lda]`` ...)."""
    results = search.cv_results_
    scores = np.asarray(results["mean_test_score"], dtype=float)
    params: list[dict[str, Any]] = list(results["params"])
    best: dict[str, dict[str, Any]] = {"mlp": params[int(np.nanargmax(scores))]}
    for kind in REDUCERS:
        idx = [i for i, p in enumerate(params) if p.get("reduce__kind", "lda") == kind]
        if idx:
            best[f"mlp[{kind}]"] = params[max(idx, key=lambda i: scores[i])]
    return best


def _fit_fold(
    X: Array, y: Array, split: tuple[int, int, Any, Any], options: ModelOptions, binary: bool
) -> dict[str, FoldResult]:
    repeat, fold, tr, te = split
    with quiet_fit():
        search = grid_search(X[tr], y[tr], options, refit=False)
        estimators: dict[str, tuple[Any, dict[str, Any]]] = {}
        best = _best_by_reducer(search)
        for name, params in best.items():
            pipe = build_pipeline(seed=options.seed, max_iter=options.effective_max_iter)
            estimators[name] = (pipe.set_params(**params), params)
        # "mlp" is one of the per-reducer winners: fit it once, share the result.
        alias = next(n for n, p in best.items() if n != "mlp" and p == best["mlp"])
        del estimators["mlp"]
        n_train = len(tr) - len(tr) // options.outer_splits
        for name, pipe in baselines(seed=options.seed, n_train=n_train).items():
            estimators[name] = (pipe, {})
        if options.augment:
            base = estimators[alias][0]
            aug = JitterAugmented(estimator=clone(base), seed=options.seed + fold)
            estimators[EXPERIMENT] = (aug, estimators[alias][1])
        out: dict[str, FoldResult] = {}
        for name, (estimator, params) in estimators.items():
            model = clone(estimator).fit(X[tr], y[tr])
            pred = np.asarray(model.predict(X[te]), dtype=float)
            train_pred = np.asarray(model.predict(X[tr]), dtype=float)
            out[name] = FoldResult(
                repeat=repeat,
                fold=fold,
                test_index=np.asarray(te, dtype=np.int64),
                y_pred=pred,
                train=compute_metrics(y[tr], train_pred),
                test=compute_metrics(y[te], pred, binary=binary),
                params=describe_params(params),
                model=model,
            )
    return {"mlp": out[alias], **out}


def _aggregate(name: str, folds: list[FoldResult], y: Array, binary: bool) -> CandidateResult:
    per_repeat: list[Metrics] = []
    for repeat in sorted({f.repeat for f in folds}):
        mine = [f for f in folds if f.repeat == repeat]
        idx = np.concatenate([f.test_index for f in mine])
        pred = np.concatenate([f.y_pred for f in mine])
        per_repeat.append(compute_metrics(y[idx], pred, binary=binary))
    nested, nested_std = mean_metrics(per_repeat)
    train, _ = mean_metrics([f.train for f in folds])
    test, _ = mean_metrics([f.test for f in folds])
    family = "mlp" if name.startswith("mlp[") or name == "mlp" else "baseline"
    if name == EXPERIMENT:
        family = "experiment"
    return CandidateResult(name, family, folds, nested, nested_std, train, test)


def is_binary(y: Array) -> bool:
    return set(np.unique(y).tolist()) <= {0.0, 1.0} and len(np.unique(y)) == 2


def leaky_seed_protocol(X: Array, y: Array, options: ModelOptions) -> Metrics:
    """The seed's protocol, kept to show its optimism: LDA fitted on all data first.

    Imputer, scaler and LDA see every rating, including each test fold's; only
    the MLP is then cross-validated on the outer folds.  Never used to choose.
    """
    with quiet_fit():
        pipe = build_pipeline(seed=options.seed, max_iter=options.effective_max_iter)
        pipe.set_params(**SEED_PARAMS)
        front = Pipeline(pipe.steps[:-1]).fit(X, y)
        Z = front.transform(X)
    folds, _ = _fixed_folds(Z, y, template=pipe.steps[-1][1], options=options)
    return _aggregate("leaky", folds, y, binary=False).nested


def evaluate(
    X: Array, y: Array, *, options: ModelOptions, columns: Sequence[str] | None = None
) -> Evaluation:
    """Run the nested loop for every candidate on the same outer folds.

    ``options.choose == "mlp"`` keeps the seed's family (its tuned reducer);
    ``"auto"`` lets the best nested R2 among MLPs and baselines win.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    check_data(X, y, options)
    binary = is_binary(y)
    splits = outer_splits(len(y), options)
    with quiet_fit():
        per_fold = Parallel(n_jobs=options.n_jobs)(
            delayed(_fit_fold)(X, y, split, options, binary) for split in splits
        )
    names = list(per_fold[0])
    candidates = {
        name: _aggregate(name, [fold[name] for fold in per_fold], y, binary) for name in names
    }
    chosen = "mlp"
    if options.choose == "auto":
        eligible = [c for c in candidates.values() if c.family != "experiment"]
        chosen = max(eligible, key=lambda c: -math.inf if math.isnan(c.score) else c.score).name
    return Evaluation(
        n_samples=len(y),
        columns=tuple(columns)
        if columns is not None
        else tuple(f"x{i}" for i in range(X.shape[1])),
        options=options,
        candidates=candidates,
        chosen=chosen,
        leaky_seed_protocol=leaky_seed_protocol(X, y, options),
        binary=binary,
    )


@dataclass
class TrainResult:
    """A trained model ready for the registry, and the evaluation that justifies it."""

    model: TasteModel
    evaluation: Evaluation

    @property
    def score(self) -> float:
        return self.evaluation.chosen_result.score


def fit_final(X: Array, y: Array, evaluation: Evaluation) -> tuple[Any, dict[str, Any]]:
    """Refit the chosen candidate on every rating (grid search again for the MLPs)."""
    options = evaluation.options
    name = evaluation.chosen
    with quiet_fit():
        if name == "mlp" or name.startswith("mlp["):
            grid = options.param_grid()
            if name.startswith("mlp["):
                grid = [{**sub, "reduce__kind": [name[4:-1]]} for sub in grid]
            search = grid_search(X, y, options, refit=True, n_jobs=options.n_jobs, grid=grid)
            evaluation.grid_scores = [
                {"params": describe_params(p), "inner_mse": round(-float(s), 4), "nested": False}
                for p, s in zip(
                    search.cv_results_["params"],
                    search.cv_results_["mean_test_score"],
                    strict=True,
                )
            ]
            return search.best_estimator_, dict(search.best_params_)
        model = baselines(seed=options.seed, n_train=len(y))[name]
        return clone(model).fit(X, y), {}


def train_model(
    X: Array, y: Array, *, options: ModelOptions, columns: Sequence[str]
) -> TrainResult:
    """Evaluate every candidate honestly, then fit the chosen one on all ratings."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    evaluation = evaluate(X, y, options=options, columns=columns)
    final, params = fit_final(X, y, evaluation)
    evaluation.final_params = params
    chosen = evaluation.chosen_result
    model = TasteModel(
        name=chosen.name,
        final=final,
        # One repeat's models already partition the ratings; more repeats would
        # double scoring time for little change in the spread.
        fold_models=[f.model for f in chosen.folds if f.repeat == 0],
        columns=tuple(columns),
        params=describe_params(params),
        y_range=(float(np.min(y)), float(np.max(y))),
        kind=chosen.family if chosen.family == "mlp" else chosen.name,
    )
    return TrainResult(model=model, evaluation=evaluation)


def _fixed_template(name: str, params: dict[str, Any], options: ModelOptions, n: int) -> Any:
    if name == "mlp" or name.startswith("mlp"):
        from models.pipeline import restore_params

        template: Any = build_pipeline(seed=options.seed, max_iter=options.effective_max_iter)
        template.set_params(**restore_params(params))
        return template
    n_train = n - n // options.outer_splits - 1
    return baselines(seed=options.seed, n_train=n_train)[name]


def _fixed_folds(
    X: Array, y: Array, *, template: Any, options: ModelOptions
) -> tuple[list[FoldResult], list[Any]]:
    """Out-of-fold results of one fixed configuration, and the first repeat's models."""
    folds: list[FoldResult] = []
    first_repeat: list[Any] = []
    with quiet_fit():
        for repeat, fold, tr, te in outer_splits(len(y), options):
            model = clone(template).fit(X[tr], y[tr])
            pred = np.asarray(model.predict(X[te]), dtype=float)
            if repeat == 0:
                first_repeat.append(model)
            folds.append(
                FoldResult(
                    repeat,
                    fold,
                    np.asarray(te),
                    pred,
                    compute_metrics(y[tr], y[tr]),
                    compute_metrics(y[te], pred),
                    {},
                    None,
                )
            )
    return folds, first_repeat


def evaluate_fixed(
    X: Array, y: Array, *, name: str, params: dict[str, Any], options: ModelOptions
) -> Metrics:
    """Score a fixed configuration (the current model's) on the outer folds of ``X, y``.

    Used by the promotion gate when the data changed since the current model was
    evaluated: both models are then compared on the same folds of the same data.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    check_data(X, y, options)
    template = _fixed_template(name, params, options, len(y))
    folds, _ = _fixed_folds(X, y, template=template, options=options)
    return _aggregate(name, folds, y, binary=False).nested


def refit_fixed(
    X: Array,
    y: Array,
    *,
    name: str,
    params: dict[str, Any],
    kind: str,
    options: ModelOptions,
    columns: Sequence[str],
) -> tuple[TasteModel, Metrics]:
    """The current configuration fitted on all of today's ratings, with its fold score.

    When a new search does not beat the configuration in use on the same folds,
    the configuration stays; but the model in use must still learn from the
    ratings that arrived since, or the playlist goes stale.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    check_data(X, y, options)
    template = _fixed_template(name, params, options, len(y))
    folds, fold_models = _fixed_folds(X, y, template=template, options=options)
    with quiet_fit():
        final = clone(template).fit(X, y)
    model = TasteModel(
        name=name,
        final=final,
        fold_models=fold_models,
        columns=tuple(columns),
        params=dict(params),
        y_range=(float(np.min(y)), float(np.max(y))),
        kind=kind,
    )
    return model, _aggregate(name, folds, y, binary=False).nested
