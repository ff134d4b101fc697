"""How the model's numbers read for a listener: the one place that knows their scales.

Two shapes live side by side in one database while the model changes
(rows are never rewritten, so old ones stay):

* ``predictions.score`` was a predicted 1-10 rating and becomes the
  probability (0..1) that the listener loves the track; ``uncertainty``
  becomes the spread of the fold models' probabilities, not an interval.
* ``model_versions.metrics`` carried a nested-CV R2 (``score``, or only
  ``r2`` on the oldest rows) and will carry ``score`` with its name in
  ``metric`` (e.g. ``roc_auc``).

Everything the status page, ``bachbot status`` and ``/metrics`` say about a
score or a model goes through these functions, so the next change of scale
is made here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

COLDSTART_KIND = "coldstart"
"""``model_versions.kind`` of the similarity fallback used before there are enough ratings."""

COLDSTART_TEXT = "ranking by similarity to your likes until there are enough ratings"

LEGACY_METRIC = "r2"
"""What ``score`` measured on rows written before ``metric`` existed."""

_LABELS = {
    "roc_auc": "ROC AUC",
    "r2": "R²",
    "average_precision": "average precision",
    "ndcg": "NDCG",
    "spearman": "Spearman correlation",
}

_BASELINES = {
    "roc_auc": (0.5, "a coin toss scores 0.50 and a perfect ranking 1.00"),
    "r2": (0.0, "always guessing your average rating scores 0.00 and a perfect model 1.00"),
}
"""Metric -> (score of a model that knows nothing, a listener's reading of the scale)."""


def is_probability(score: float) -> bool:
    """Whether ``score`` is the new probability; above 1 (or below 0) it is an old 1-10 rating."""
    return 0.0 <= score <= 1.0


def format_score(score: float) -> str:
    """A prediction as the listener reads it: "87% likely to be loved", or "7.4/10" for old rows."""
    if math.isnan(score):
        return "not scored"
    if is_probability(score):
        return f"{score:.0%} likely to be loved"
    return f"{score:.1f}/10"


def format_spread(score: float, uncertainty: float | None) -> str | None:
    """How far the fold models disagree, in percentage points; None where it means nothing.

    Only a probability has a spread in points; the old rows' uncertainty was
    on the rating scale and is not shown.
    """
    if uncertainty is None or math.isnan(uncertainty) or not is_probability(score):
        return None
    return f"model spread ±{uncertainty * 100:.0f} pts"


def is_coldstart(kind: str | None) -> bool:
    return kind == COLDSTART_KIND


@dataclass(frozen=True)
class ModelQuality:
    """The one number a model version was judged by (nested cross-validation)."""

    metric: str
    value: float

    @property
    def label(self) -> str:
        return metric_label(self.metric)

    def describe(self) -> str:
        """E.g. "ROC AUC 0.84 (nested CV)"."""
        return f"{self.label} {self.value:.2f} (nested CV)"


def metric_label(metric: str) -> str:
    return _LABELS.get(metric, metric.replace("_", " "))


def metric_baseline(metric: str) -> float | None:
    """What a model that learned nothing scores on this metric, when that is known."""
    known = _BASELINES.get(metric)
    return None if known is None else known[0]


def metric_hint(metric: str) -> str | None:
    """How to read the metric, in a listener's words."""
    known = _BASELINES.get(metric)
    return None if known is None else known[1]


def model_quality(metrics: Mapping[str, Any] | None) -> ModelQuality | None:
    """The primary nested score of a model version, or None (cold start, failed, no score)."""
    metrics = metrics or {}
    named = metrics.get("metric")
    metric = named if isinstance(named, str) and named else LEGACY_METRIC
    value = _number(metrics.get("score"))
    if value is None and metric == LEGACY_METRIC:
        value = _number(metrics.get(LEGACY_METRIC))
    return None if value is None else ModelQuality(metric=metric, value=value)


def _number(value: object) -> float | None:
    """A finite JSON number as a float (JSON has no NaN; bachbot stores null instead)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
