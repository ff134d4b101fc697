"""The study's own numbers, kept for comparison: a regression R2 on explicit ratings.

The study regressed 1-10 ratings on the descriptors (LDA, then an MLP) and
reported a cross-validated R2 of 0.749 with the LDA fitted on all the data
first.  bachbot learns a probability of love instead, but where the listener
gave enough explicit ratings it still reports the study's figure, done
properly (nested, grouped), beside the same model with the study's leaky
protocol, so the two can be told apart.  Likes and removals are never part of
it: regressing on the constants they stand for measures nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from models.candidates import Config, Family, build, study_configs
from models.folds import IntArray, regression_splits
from models.metrics import Summary, regression_scores, summarise_folds
from models.nested import run_nested
from models.options import ModelOptions
from models.pipeline import Array, quiet_fit

MIN_EXPLICIT = 20
"""Explicit ratings needed before the study's R2 is worth reporting."""
STUDY_CONFIG = Config.of("study", reduce="lda", hidden=(2, 2), alpha=0.1)
"""The study's winning configuration (LDA, logistic units, hidden layers (2, 2))."""


@dataclass(frozen=True)
class StudyResult:
    """Nested R2 of the study's family and of the study's leaky protocol."""

    n: int
    nested: dict[str, Summary]
    leaky: dict[str, Summary]
    choices: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_explicit_ratings": self.n,
            "nested": {k: v.to_dict() for k, v in self.nested.items()},
            "leaky_study_protocol": {k: v.to_dict() for k, v in self.leaky.items()},
            "note": "regression on explicit 1-10 ratings only; the leaky protocol fits "
            "imputer, scaler and LDA on all rows before cross-validating, as the study did",
            "params_by_fold": self.choices,
        }


def study_regression(
    X: Array, ratings: Array, groups: IntArray, *, options: ModelOptions
) -> StudyResult | None:
    """The study's R2 on these rows (explicit ratings only), or None when too few."""
    n = len(ratings)
    if n < max(MIN_EXPLICIT, 2 * options.outer_splits) or np.ptp(ratings) == 0:
        return None
    splits = regression_splits(
        n, groups, n_splits=options.outer_splits, n_repeats=2, seed=options.seed
    )
    family = Family("study", study_configs(options.fast), "study")
    run = run_nested(
        X, ratings, groups=groups, splits=splits, families=[family], kind="regression",
        options=options,
    )  # fmt: skip
    outcomes = run.outcomes["study"]
    per_fold = [regression_scores(ratings[o.test_index], o.prediction) for o in outcomes]
    choices: dict[str, int] = {}
    for o in outcomes:
        choices[o.config.key] = choices.get(o.config.key, 0) + 1
    leaky = leaky_protocol(X, ratings, groups, options=options)
    return StudyResult(n=n, nested=summarise_folds(per_fold), leaky=leaky, choices=choices)


def leaky_protocol(
    X: Array, y: Array, groups: IntArray, *, options: ModelOptions
) -> dict[str, Summary]:
    """The study's protocol, kept to show its optimism: LDA fitted on all rows first.

    Imputer, scaler and LDA see every rating, including each test fold's; only
    the MLP is then cross-validated.  Never used to choose anything.
    """
    template = build(STUDY_CONFIG, options=options, n_train=len(y))
    with quiet_fit():
        front = Pipeline(template.steps[:-1]).fit(X, y)
        Z = front.transform(X)
        head = template.steps[-1][1]
        per_fold = []
        for split in regression_splits(
            len(y), groups, n_splits=options.outer_splits, n_repeats=2, seed=options.seed
        ):
            model = clone(head).fit(Z[split.train], y[split.train])
            per_fold.append(regression_scores(y[split.test], model.predict(Z[split.test])))
    return summarise_folds(per_fold)


def explicit_rows(explicit: NDArray[np.bool_] | None, n: int) -> NDArray[np.bool_]:
    return np.zeros(n, dtype=bool) if explicit is None else np.asarray(explicit, dtype=bool)


def r2_text(result: StudyResult | None) -> str:
    """One line for the terminal: the study's R2, honest and leaky."""
    if result is None:
        return ""
    nested, leaky = result.nested["r2"], result.leaky["r2"]

    def fmt(s: Summary) -> str:
        if not math.isfinite(s.mean):
            return "n/a"
        sd = "" if not math.isfinite(s.sd) else f" (fold SD {s.sd:.3f})"
        return f"{s.mean:.3f}{sd}"

    return (
        f"the study's regression on your {result.n} explicit ratings: nested R2 {fmt(nested)}; "
        f"with the study's leaky protocol {fmt(leaky)}"
    )
