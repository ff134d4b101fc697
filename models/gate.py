"""The promotion gate: is the new model at least as good as the one in use?

Both models are scored the same way on the same folds of *today's* ratings:
each configuration (the new one and the one in use; the cold start counts as
one) is fitted on every outer training fold and scored on its test fold, and
the decision reads the per-fold differences of ROC AUC with their corrected
standard error (:func:`models.metrics.paired_difference`):

* new better by more than ``margin_se`` standard errors -> promote;
* new worse by more than that -> keep the configuration in use (the caller
  refits it on today's ratings, so the model in use still learns);
* otherwise a tie -> prefer the model trained on more ratings (usually the
  new one), so the gate never locks an old model in.

Swapping the two models mirrors the outcome (better <-> worse, tie stays a
tie).  Where enough ratings arrived after the model in use was trained, both
are also scored on exactly those (a true hold-out) and the result is shown
beside the decision; with few such ratings it is too noisy to decide on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from models.candidates import Config, Family, build
from models.folds import Grouping, default_repeats, holdout_ratio, stratified_splits
from models.metrics import PairedDifference, Summary, paired_difference, roc_auc, summarise
from models.nested import Progress, run_nested
from models.options import ModelOptions
from models.pipeline import Array, positive_proba, quiet_fit

Outcome = Literal["first", "better", "tie", "worse", "incomparable", "coldstart", "same"]
HOLDOUT_MIN = 10
"""Ratings since the model in use was trained before the hold-out is shown."""


@dataclass(frozen=True)
class Comparison:
    """Two fixed configurations on the same folds of the same ratings."""

    new: Summary
    current: Summary
    diff: PairedDifference
    """new - current, per fold."""
    new_folds: tuple[float, ...]
    current_folds: tuple[float, ...]

    def swapped(self) -> Comparison:
        d = self.diff
        return Comparison(
            new=self.current,
            current=self.new,
            diff=PairedDifference(-d.mean, d.se, -d.t, d.p, d.folds),
            new_folds=self.current_folds,
            current_folds=self.new_folds,
        )


def compare(
    X: Array,
    y: NDArray[np.int64],
    grouping: Grouping,
    *,
    new: Config,
    current: Config,
    options: ModelOptions,
    progress: Progress | None = None,
) -> Comparison:
    """Score both configurations on the outer folds the evaluation uses."""
    splits = stratified_splits(
        y,
        grouping.ids,
        n_splits=options.outer_splits,
        n_repeats=default_repeats(len(y), options.outer_repeats),
        seed=options.seed,
    )
    families = [Family("new", (new,), "study"), Family("current", (current,), "study")]
    run = run_nested(
        X, y, groups=grouping.ids, splits=splits, families=families, options=options,
        progress=progress,
    )  # fmt: skip

    def aucs(name: str) -> tuple[float, ...]:
        return tuple(roc_auc(y[o.test_index], o.prediction) for o in run.outcomes[name])

    new_folds, current_folds = aucs("new"), aucs("current")
    return Comparison(
        new=summarise(new_folds),
        current=summarise(current_folds),
        diff=paired_difference(new_folds, current_folds, test_train_ratio=holdout_ratio(splits)),
        new_folds=new_folds,
        current_folds=current_folds,
    )


@dataclass(frozen=True)
class Holdout:
    """Both models on the ratings that arrived after the model in use was trained."""

    n: int
    n_loved: int
    current: float
    new: float


def holdout(
    current_prob: Array,
    X_before: Array,
    y_before: NDArray[np.int64],
    X_after: Array,
    y_after: NDArray[np.int64],
    *,
    new: Config,
    options: ModelOptions,
) -> Holdout | None:
    """ROC AUC of the model in use and of the new configuration (fitted on the older
    ratings only) on the newer ratings; None when there are too few or one class."""
    n_loved = int(y_after.sum())
    if len(y_after) < HOLDOUT_MIN or n_loved in (0, len(y_after)):
        return None
    if len(np.unique(y_before)) < 2:
        return None
    with quiet_fit():
        model: Any = build(new, options=options, n_train=len(y_before)).fit(X_before, y_before)
        new_prob = positive_proba(model, X_after)
    return Holdout(
        n=len(y_after),
        n_loved=n_loved,
        current=roc_auc(y_after, current_prob),
        new=roc_auc(y_after, new_prob),
    )


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    outcome: Outcome
    reason: str
    comparison: Comparison | None = None
    margin: float = math.nan
    holdout: Holdout | None = None

    def with_holdout(self, value: Holdout | None) -> GateDecision:
        return GateDecision(
            self.promote, self.outcome, self.reason, self.comparison, self.margin, value
        )

    def as_text(self) -> str:
        """One sentence: what happened and the numbers behind it."""
        verdict = "promoted" if self.promote else "kept the model in use"
        parts = [f"{verdict}: {self.reason}"]
        c = self.comparison
        if c is not None and math.isfinite(c.diff.mean):
            se = "n/a" if not math.isfinite(c.diff.se) else f"{c.diff.se:.3f}"
            margin = "" if not math.isfinite(self.margin) else f", margin {self.margin:.3f}"
            parts.append(
                f"ROC AUC on the same {c.diff.folds} folds: new {c.new.mean:.3f}, "
                f"in use {c.current.mean:.3f}, difference {c.diff.mean:+.3f} "
                f"(SE {se}{margin})"
            )
        h = self.holdout
        if h is not None:
            parts.append(
                f"on the {h.n} ratings since the model in use was trained: in use "
                f"{_fmt(h.current)}, new {_fmt(h.new)} ROC AUC"
            )
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "promote": self.promote,
            "outcome": self.outcome,
            "reason": self.reason,
            "new_roc_auc": None if c is None else _round(c.new.mean),
            "current_roc_auc": None if c is None else _round(c.current.mean),
            "diff": None if c is None else c.diff.to_dict(),
            "margin": _round(self.margin),
            "holdout": None
            if self.holdout is None
            else {
                "n": self.holdout.n,
                "n_loved": self.holdout.n_loved,
                "current_roc_auc": _round(self.holdout.current),
                "new_roc_auc": _round(self.holdout.new),
            },
        }


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.3f}"


def _round(value: float) -> float | None:
    return None if not math.isfinite(value) else round(value, 4)


def first(reason: str = "no model in use yet") -> GateDecision:
    return GateDecision(True, "first", reason)


def same(n_ratings: int) -> GateDecision:
    """The inner search chose the configuration already in use: nothing to compare.

    Both would be fitted on the same folds to the same numbers (a difference
    of exactly 0), so the gate says so instead of calling it a tie, and the
    refit on every rating is promoted without the second cross-validation.
    """
    return GateDecision(
        True,
        "same",
        f"the same configuration as the model in use, refit on all {n_ratings} ratings",
    )


def decide(comparison: Comparison, *, new_n: int, current_n: int, margin_se: float) -> GateDecision:
    """Promote unless the new model is worse beyond the margin (see the module)."""
    d = comparison.diff
    if not math.isfinite(d.mean):
        return GateDecision(
            True, "incomparable", "the model in use has no score on today's folds", comparison
        )
    margin = margin_se * d.se if math.isfinite(d.se) else 0.0
    if d.mean > margin:
        return GateDecision(True, "better", "better on the same folds", comparison, margin)
    if d.mean < -margin:
        return GateDecision(
            False, "worse", "worse on the same folds beyond the margin", comparison, margin
        )
    if new_n >= current_n:
        return GateDecision(
            True,
            "tie",
            "tied within the margin; the model trained on more ratings is preferred",
            comparison,
            margin,
        )
    return GateDecision(
        False,
        "tie",
        "tied within the margin, and the model in use was trained on more ratings",
        comparison,
        margin,
    )


def mirrored(outcome: Outcome) -> Outcome:
    """The outcome seen from the other model (for the symmetry check)."""
    return {"better": "worse", "worse": "better"}.get(outcome, outcome)  # type: ignore[return-value]
