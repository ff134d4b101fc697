"""Honest numbers for a taste model: evaluate every family, then train the chosen one.

:func:`evaluate` runs the nested loop (:mod:`models.nested`) for the study's
MLP family, its per-reducer variants and the baselines on the same grouped,
stratified outer folds (:mod:`models.folds`), scores each outer test fold
(:mod:`models.metrics`), compares every family with the chosen one through
paired per-fold differences, measures calibration by cross-fitting
(:mod:`models.calibration`), and adds the study's regression R2 where there
are explicit ratings (:mod:`models.study`).

:func:`train_model` then does on all rows what each outer fold did on its
training rows - the same inner search picks the configuration - fits it,
and calibrates it on the nested out-of-fold predictions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.calibration import (
    Platt,
    ReliabilityBin,
    cross_fitted,
    expected_calibration_error,
    fit_platt,
    reliability,
)
from models.candidates import (
    Config,
    Family,
    auto_configs,
    build,
    classification_families,
    kind_of,
)
from models.errors import NotEnoughData
from models.folds import (
    Grouping,
    choose_grouping,
    default_repeats,
    groups_per_class,
    holdout_ratio,
    stratified_splits,
)
from models.metrics import (
    PairedDifference,
    Summary,
    brier,
    classification_scores,
    clean,
    log_loss,
    paired_difference,
    summarise,
    summarise_folds,
)
from models.nested import AUTO, FoldOutcome, NestedRun, Progress, choose, out_of_fold, run_nested
from models.options import ModelOptions
from models.pipeline import Array, TasteModel, quiet_fit
from models.study import StudyResult, study_regression
from models.target import Labels

PRIMARY = "roc_auc"


@dataclass
class FamilyResult:
    """One family across the outer folds."""

    name: str
    role: str
    folds: list[FoldOutcome]
    per_fold: list[dict[str, float]]
    summary: dict[str, Summary]
    train: Summary
    """ROC AUC on the folds' own training rows (the gap to the test score is overfitting)."""
    vs_chosen: PairedDifference | None = None

    @property
    def score(self) -> float:
        return self.summary[PRIMARY].mean

    def primary_by_fold(self) -> list[float]:
        return [f[PRIMARY] for f in self.per_fold]

    def choices(self) -> dict[str, int]:
        """How often each configuration was chosen over the outer folds."""
        return dict(Counter(f.config.key for f in self.folds).most_common())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "metrics": {k: v.to_dict() for k, v in self.summary.items()},
            "train_roc_auc": self.train.to_dict(),
            "vs_chosen": None if self.vs_chosen is None else self.vs_chosen.to_dict(),
            "params_by_fold": self.choices(),
        }


@dataclass(frozen=True)
class CalibrationReport:
    """How far the shown probabilities can be trusted (cross-fitted, out of fold)."""

    platt: Platt
    brier_raw: float
    brier: float
    log_loss: float
    ece: float
    bins: tuple[ReliabilityBin, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "Platt scaling fitted on nested out-of-fold predictions; "
            "scores below are cross-fitted (each fold calibrated on the others)",
            "brier_uncalibrated": clean(self.brier_raw),
            "brier": clean(self.brier),
            "log_loss": clean(self.log_loss),
            "expected_calibration_error": clean(self.ece),
            "reliability": [
                {
                    "range": [round(b.low, 2), round(b.high, 2)],
                    "n": b.n,
                    "predicted": clean(b.predicted),
                    "observed": clean(b.observed),
                }
                for b in self.bins
            ],
            "platt": self.platt.to_dict(),
        }


@dataclass
class Evaluation:
    """Everything the nested cross-validation found; the report and the CLI read it."""

    n_samples: int
    n_positive: int
    columns: tuple[str, ...]
    options: ModelOptions
    repeats: int
    grouping: Grouping
    families: dict[str, FamilyResult]
    chosen: str
    calibration: CalibrationReport | None
    study: StudyResult | None
    ratio: float
    """n_test / n_train of the outer folds (for the corrected paired test)."""
    final_config: Config | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def chosen_result(self) -> FamilyResult:
        return self.families[self.chosen]

    @property
    def score(self) -> float:
        return self.chosen_result.score

    def cv_text(self) -> str:
        o = self.options
        name = self.grouping.name
        group = "ungrouped" if name == "none" else f"grouped by {name}"
        return (
            f"outer {o.outer_splits}-fold x {self.repeats} (stratified, {group}), "
            f"inner {o.inner_splits}-fold"
        )

    def reducer_rows(self) -> list[FamilyResult]:
        return [f for f in self.families.values() if f.role == "reducer"]

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: ``chosen`` and ``candidates`` at the top level."""
        chosen = self.chosen_result
        auc = chosen.summary[PRIMARY]
        return {
            "n_samples": self.n_samples,
            "n_loved": self.n_positive,
            "n_features": len(self.columns),
            "features": list(self.columns),
            "cv": {
                "outer": f"{self.options.outer_splits}-fold x {self.repeats}, stratified",
                "inner": f"{self.options.inner_splits}-fold",
                "grouping": self.grouping.name,
                "groups": self.grouping.n_groups,
                "seed": self.options.seed,
                "metric": PRIMARY,
                "k": f"min(playlist size {self.options.playlist_size}, a fifth of the test fold)",
                "paired_test": "per-fold differences, Nadeau-Bengio corrected standard error",
            },
            "chosen": {
                "name": chosen.name,
                "roc_auc": clean(auc.mean),
                "roc_auc_sd": clean(auc.sd),
                "metrics": {k: v.to_dict() for k, v in chosen.summary.items()},
                "params_by_fold": chosen.choices(),
                "final_config": None if self.final_config is None else self.final_config.key,
            },
            "candidates": [f.to_dict() for f in self.families.values()],
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "study": None if self.study is None else self.study.to_dict(),
            "notes": self.notes,
        }


def minimum_per_class(options: ModelOptions) -> int:
    """Loved and unloved tracks (in separate groups) each needed for nested CV."""
    return options.outer_splits + 2


def check_data(X: Array, y: NDArray[np.int64], grouping: Grouping, options: ModelOptions) -> None:
    """Refuse data the nested loop cannot split, saying what is missing."""
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X has shape {X.shape} but the target has {len(y)} values")
    need = minimum_per_class(options)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if min(pos, neg) < need or groups_per_class(y, grouping.ids) < need:
        raise NotEnoughData(
            f"{pos} loved and {neg} not-loved tracks: a classifier with "
            f"{options.outer_splits}-fold nested cross-validation needs at least {need} of "
            "each (in different recordings and works)"
        )


def _scores(outcomes: Sequence[FoldOutcome], labels: Labels, k: int) -> list[dict[str, float]]:
    return [
        classification_scores(
            labels.loved[o.test_index],
            o.prediction,
            labels.relevance[o.test_index],
            playlist_size=k,
        )
        for o in outcomes
    ]


def _family_result(
    name: str, role: str, outcomes: list[FoldOutcome], labels: Labels, options: ModelOptions
) -> FamilyResult:
    per_fold = _scores(outcomes, labels, options.playlist_size)
    return FamilyResult(
        name=name,
        role=role,
        folds=outcomes,
        per_fold=per_fold,
        summary=summarise_folds(per_fold),
        train=summarise([o.train_score for o in outcomes]),
    )


def _calibration(outcomes: Sequence[FoldOutcome], y: NDArray[np.int64]) -> CalibrationReport:
    raw, fold_of = out_of_fold(outcomes, len(y))
    yy = np.tile(y, len(raw) // len(y))
    seen = fold_of >= 0
    raw, fold_of, yy = raw[seen], fold_of[seen], yy[seen]
    calibrated = cross_fitted(raw, yy, fold_of)
    bins = tuple(reliability(calibrated, yy))
    return CalibrationReport(
        platt=fit_platt(raw, yy),
        brier_raw=brier(yy, raw),
        brier=brier(yy, calibrated),
        log_loss=log_loss(yy, calibrated),
        ece=expected_calibration_error(bins),
        bins=bins,
    )


def evaluate(
    X: Array,
    labels: Labels,
    *,
    options: ModelOptions,
    columns: Sequence[str] | None = None,
    groupings: Sequence[Grouping] = (),
    progress: Progress | None = None,
) -> tuple[Evaluation, NestedRun]:
    """Nested evaluation of every family on the same folds; nothing is saved."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(labels.loved, dtype=np.int64)
    n = len(y)
    grouping = choose_grouping(y, groupings, n_splits=options.outer_splits)
    check_data(X, y, grouping, options)
    repeats = default_repeats(n, options.outer_repeats)
    splits = stratified_splits(
        y, grouping.ids, n_splits=options.outer_splits, n_repeats=repeats, seed=options.seed
    )
    families = classification_families(options)
    auto = auto_configs(families) if options.choose == "auto" else ()
    chosen = AUTO if options.choose == "auto" else "mlp"
    run = run_nested(
        X, y, groups=grouping.ids, splits=splits, families=families, auto=auto,
        options=options, keep=chosen, progress=progress,
    )  # fmt: skip
    roles = {f.name: f.role for f in families} | {AUTO: "auto"}
    results = {
        name: _family_result(name, roles[name], outcomes, labels, options)
        for name, outcomes in run.outcomes.items()
    }
    ratio = holdout_ratio(splits)
    reference = results[chosen].primary_by_fold()
    for result in results.values():
        if result.name != chosen:
            result.vs_chosen = paired_difference(
                result.primary_by_fold(), reference, test_train_ratio=ratio
            )
    notes = []
    if grouping.name == "none" and groupings:
        notes.append(
            "rows could not be grouped by recording or work (too few groups per class); "
            "near-copies may sit on both sides of a split"
        )
    study = None
    if options.study and labels.ratings is not None and labels.explicit is not None:
        rows = np.flatnonzero(labels.explicit)
        if len(rows):
            study = study_regression(
                X[rows], labels.ratings[rows], grouping.ids[rows], options=options
            )
    evaluation = Evaluation(
        n_samples=n,
        n_positive=int(y.sum()),
        columns=tuple(columns)
        if columns is not None
        else tuple(f"x{i}" for i in range(X.shape[1])),
        options=options,
        repeats=repeats,
        grouping=grouping,
        families=results,
        chosen=chosen,
        calibration=_calibration(run.outcomes[chosen], y),
        study=study,
        ratio=ratio,
        notes=notes,
    )
    return evaluation, run


@dataclass
class TrainResult:
    """A trained model ready for the registry, and the evaluation that justifies it."""

    model: TasteModel
    evaluation: Evaluation
    grouping: Grouping

    @property
    def score(self) -> float:
        return self.evaluation.score


def train_model(
    X: Array,
    labels: Labels,
    *,
    options: ModelOptions,
    columns: Sequence[str],
    groupings: Sequence[Grouping] = (),
    progress: Progress | None = None,
) -> TrainResult:
    """Evaluate honestly, then choose and fit the configured model on every row."""
    say = progress or (lambda _line: None)
    X = np.asarray(X, dtype=float)
    y = np.asarray(labels.loved, dtype=np.int64)
    evaluation, run = evaluate(
        X, labels, options=options, columns=columns, groupings=groupings, progress=progress
    )
    grouping = evaluation.grouping
    families = classification_families(options)
    configs: Sequence[Config] = (
        auto_configs(families) if evaluation.chosen == AUTO else _family(families, "mlp").configs
    )
    say(f"choosing among {len(configs)} configurations on all {len(y)} ratings ...")
    with quiet_fit():
        config, _ = choose(
            X, y, grouping.ids, configs, kind="classification", options=options,
            seed=options.seed + 1,
        )  # fmt: skip
        final = build(config, options=options, n_train=len(y)).fit(X, y)
    evaluation.final_config = config
    calibration = evaluation.calibration
    model = TasteModel(
        name=evaluation.chosen,
        kind=kind_of(config),
        config=config.to_dict(),
        final=final,
        columns=tuple(columns),
        calibrator=calibration.platt if calibration is not None else Platt(),
        fold_models=list(run.kept_models),
    )
    return TrainResult(model=model, evaluation=evaluation, grouping=grouping)


def _family(families: Sequence[Family], name: str) -> Family:
    return next(f for f in families if f.name == name)


def fit_fixed(
    X: Array,
    labels: Labels,
    config: Config,
    *,
    name: str,
    options: ModelOptions,
    columns: Sequence[str],
    grouping: Grouping,
) -> tuple[TasteModel, list[float]]:
    """A fixed configuration (the one in use) refit on every rating, with its fold AUCs.

    Used when the promotion gate keeps the configuration in use: the model in
    use must still learn from the ratings that arrived since.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(labels.loved, dtype=np.int64)
    repeats = default_repeats(len(y), options.outer_repeats)
    splits = stratified_splits(
        y, grouping.ids, n_splits=options.outer_splits, n_repeats=repeats, seed=options.seed
    )
    family = Family(name, (config,), "study")
    run = run_nested(
        X, y, groups=grouping.ids, splits=splits, families=[family], options=options, keep=name
    )
    outcomes = run.outcomes[name]
    with quiet_fit():
        final = build(config, options=options, n_train=len(y)).fit(X, y)
    model = TasteModel(
        name=name,
        kind=kind_of(config),
        config=config.to_dict(),
        final=final,
        columns=tuple(columns),
        calibrator=_calibration(outcomes, y).platt,
        fold_models=list(run.kept_models),
    )
    return model, [s[PRIMARY] for s in _scores(outcomes, labels, options.playlist_size)]
