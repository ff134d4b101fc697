"""Why a track got its score: the features that moved it, and the rated tracks it is near.

**Reasons** are measured by *occlusion against the average candidate*: for each
readable feature group (tempo; mode; the 16 performer buckets together; one
instrument; ...) the group is set to the value of a reference row - the
column-wise median of a fixed sample of candidates - and the probability is
computed again.  The group's effect is ``p(track) - p(track with that group
as the average candidate has it)``, in probability points on the listener's
scale; the three largest in size are the reasons.

Why this method (not SHAP): it is one batched pass through the model for the
groups where a track differs from the reference (usually 10-25 of ~100), so
500 tracks cost a fraction of a second, needs no new dependency, and works for
every model bachbot has (MLP, logistic regression, k-NN, trees, cold start).
For a model that is additive in the log-odds of its per-column transforms (the
logistic regression after bachbot's per-column scaler) the ranking it gives
is exactly that of Shapley values with the same single reference row, since
``p - sigmoid(logit(p) - d)`` grows with ``d``.  For the MLP, trees and k-NN
it is the first-order part and ignores interactions; ``bench/`` measures how
often its top reason agrees with sampled Shapley values (see
:func:`shapley_effects`).

**Neighbours** are the rated tracks closest in the standardised feature space
every model starts from (centred on the reference's medians, scaled by the
sample's SD, missing values at the centre).  Similarity is
``exp(-d^2 / 2p)`` over ``p`` usable columns: 1 for an identical track, about
0.37 for two tracks as far apart as two random catalogue tracks.

Pure numpy: the jobs layer loads the matrices and stores the result.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.explain_words import (
    Context,
    FeatureGroup,
    RatedTracks,
    TrackFacts,
    feature_groups,
    flag_word,
    side_word,
    word_reason,
)
from models.typicality import squared_distances

Array = NDArray[np.float64]
Probability = Callable[[Array], Array]
"""Rows of the feature matrix -> probability of love (calibrated, 0-1)."""

REASONS = 3
NEIGHBOURS = 3
NO_AUDIO = (
    "no audio descriptors for this track: its reasons come from its title, "
    "catalogue entry and performers only"
)


def probability_of(model: Any) -> Probability:
    """The model's probability of love, without the fold models' spread (not needed here).

    A :class:`models.pipeline.TasteModel` answers through its final fit and
    calibration only (a tenth of the cost of ``predict_with_uncertainty``);
    anything else that can score (the cold start) through its own method.
    """
    final, calibrator = getattr(model, "final", None), getattr(model, "calibrator", None)
    if final is not None and calibrator is not None:
        from models.pipeline import positive_proba

        return lambda X: np.asarray(calibrator(positive_proba(final, X)), dtype=float)
    return lambda X: np.asarray(model.predict_with_uncertainty(X)[0], dtype=float)


@dataclass(frozen=True)
class Reference:
    """The "average candidate" and the scale of the catalogue, from a fixed candidate sample."""

    row: Array
    """Column-wise median (NaN where the sample has no value at all)."""
    scale: Array
    """Column-wise SD (1 where it is 0 or unknown)."""

    @classmethod
    def of(cls, X: Array) -> Reference:
        X = np.asarray(X, dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
            centre = np.nanmedian(X, axis=0) if len(X) else np.full(X.shape[1], np.nan)
            spread = np.nanstd(X, axis=0) if len(X) else np.ones(X.shape[1])
        scale = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
        return cls(np.asarray(centre, dtype=float), np.asarray(scale, dtype=float))

    def standardise(self, X: Array) -> Array:
        Z = (
            np.asarray(X, dtype=float) - np.where(np.isfinite(self.row), self.row, 0.0)
        ) / self.scale
        return np.asarray(np.where(np.isnan(Z), 0.0, Z), dtype=float)


@dataclass(frozen=True)
class Reason:
    feature: str
    text: str
    effect: float

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "text": self.text, "effect": round(self.effect, 4)}


@dataclass(frozen=True)
class Neighbour:
    track_id: str
    name: str
    rating: float
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "name": self.name,
            "rating": self.rating,
            "similarity": round(self.similarity, 3),
        }


@dataclass(frozen=True)
class Explanation:
    reasons: tuple[Reason, ...]
    neighbours: tuple[Neighbour, ...]
    audio: bool
    """False: the track has no audio descriptors (see :data:`NO_AUDIO`)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "occlusion",
            "reasons": [r.to_dict() for r in self.reasons],
            "neighbours": [n.to_dict() for n in self.neighbours],
            "audio": self.audio,
            **({} if self.audio else {"note": NO_AUDIO}),
        }


def occlusion_effects(
    probability: Probability,
    X: Array,
    reference: Array,
    groups: Sequence[FeatureGroup],
) -> tuple[Array, Array]:
    """(probability per row, effect per row and group): see the module docstring.

    A group whose columns the track has no value for (no audio), or where it
    already equals the reference, has effect 0 and costs nothing: only the
    differing (row, group) pairs go through the model, in one batch.
    """
    X = np.asarray(X, dtype=float)
    base = probability(X) if len(X) else np.empty(0)
    effects = np.zeros((len(X), len(groups)))
    rows: list[int] = []
    cols: list[int] = []
    for g, group in enumerate(groups):
        idx = list(group.columns)
        values, ref = X[:, idx], reference[idx]
        known = ~np.isnan(values).all(axis=1)
        same = np.all((values == ref) | (np.isnan(values) & np.isnan(ref)), axis=1)
        for i in np.flatnonzero(known & ~same):
            rows.append(int(i))
            cols.append(g)
    if not rows:
        return base, effects
    perturbed = X[rows].copy()
    for k, g in enumerate(cols):
        idx = list(groups[g].columns)
        perturbed[k, idx] = reference[idx]
    effects[rows, cols] = base[rows] - probability(perturbed)
    return base, effects


def shapley_effects(
    probability: Probability,
    x: Array,
    reference: Array,
    groups: Sequence[FeatureGroup],
    *,
    permutations: int = 64,
    seed: int = 0,
) -> Array:
    """Sampled Shapley values of each group for one row, with the same reference row.

    The yardstick the bench holds :func:`occlusion_effects` against (too slow
    for every scored track: ``permutations x groups`` model calls per track).
    """
    rng = np.random.default_rng(seed)
    n = len(groups)
    total = np.zeros(n)
    for _ in range(permutations):
        order = rng.permutation(n)
        chain = np.tile(reference, (n + 1, 1))
        for step, g in enumerate(order, start=1):
            chain[step:, list(groups[g].columns)] = x[list(groups[g].columns)]
        p = probability(chain)
        total[order] += np.diff(p)
    return total / permutations


def nearest_rated(
    Z: Array, rated: RatedTracks, rated_Z: Array, *, usable: int, count: int = NEIGHBOURS
) -> list[list[Neighbour]]:
    """The ``count`` most similar rated tracks of each row of ``Z`` (see the module)."""
    if len(rated.ids) == 0 or len(Z) == 0:
        return [[] for _ in range(len(Z))]
    d2 = squared_distances(Z, rated_Z)
    k = min(count, len(rated.ids))
    nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
    width = 2.0 * max(usable, 1)
    return [
        [
            Neighbour(
                rated.ids[j],
                rated.names[j],
                float(rated.ratings[j]),
                float(math.exp(-d2[i, j] / width)),
            )
            for j in row
        ]
        for i, row in enumerate(nearest)
    ]


@dataclass(frozen=True)
class Explainer:
    """Everything needed to explain a block of newly scored tracks (built once per score run)."""

    probability: Probability
    columns: tuple[str, ...]
    reference: Reference
    rated: RatedTracks
    groups: tuple[FeatureGroup, ...]
    audio_columns: tuple[int, ...]

    @classmethod
    def build(
        cls, model: Any, *, columns: Sequence[str], sample: Array, rated: RatedTracks
    ) -> Explainer:
        columns = tuple(columns)
        return cls(
            probability_of(model),
            columns,
            Reference.of(sample),
            rated,
            feature_groups(columns),
            tuple(j for j, c in enumerate(columns) if c.startswith("audio.")),
        )

    def explain(self, X: Array, facts: Sequence[TrackFacts]) -> list[Explanation]:
        """One explanation per row of ``X`` (``facts`` in the same order)."""
        X = np.asarray(X, dtype=float)
        _, effects = occlusion_effects(self.probability, X, self.reference.row, self.groups)
        usable = int(np.isfinite(self.reference.row).sum())
        Z = self.reference.standardise(X)
        neighbours = nearest_rated(
            Z, self.rated, self.reference.standardise(self.rated.X), usable=usable
        )
        audio: NDArray[np.bool_] = np.zeros(len(X), dtype=bool)
        if self.audio_columns:
            audio = np.asarray(~np.isnan(X[:, list(self.audio_columns)]).all(axis=1))
        out = []
        for i, fact in enumerate(facts):
            order = np.argsort(-np.abs(effects[i]), kind="stable")
            context = Context(row=X[i], reference=self.reference.row, facts=fact, rated=self.rated)
            reasons = tuple(
                Reason(
                    self.groups[g].name,
                    word_reason(self.groups[g], float(effects[i, g]), context),
                    float(effects[i, g]),
                )
                for g in order[:REASONS]
                if effects[i, g] != 0.0
            )
            out.append(Explanation(reasons, tuple(neighbours[i]), bool(audio[i])))
        return out


@dataclass(frozen=True)
class TasteItem:
    """What the model has learned about one feature, over the whole catalogue."""

    feature: str
    text: str
    """The side that raises the chance ("slow tempo"); for a flag, the flag itself."""
    effect: float
    """Probability points that side adds (a flag: signed, < 0 when it lowers the chance)."""
    versus: str | None = None
    """The other side ("fast tempo"); None for a flag."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "text": self.text,
            "effect": round(self.effect, 4),
            "versus": self.versus,
        }


TASTE_KINDS = frozenset({"scalar", "mode", "flag", "other"})
TASTE_MIN_EFFECT = 0.01


def taste_effects(
    probability: Probability, sample: Array, reference: Reference, groups: Sequence[FeatureGroup]
) -> list[TasteItem]:
    """The features that matter most to the model, with their direction, largest first.

    How much a feature matters is its mean absolute occlusion effect over the
    candidate sample (so a flag that few tracks have matters little overall,
    however large its effect on those few).  Its direction and size are read
    on the average candidate, moved from low to high (a flag from absent to
    present; a scalar from the sample's 10th to its 90th percentile).
    Performers, keys, works and the pitch/timbre profiles have no low and
    high; the status page lists works and performers from the ratings instead.
    """
    sample = np.asarray(sample, dtype=float)
    picked = [
        g
        for g in groups
        if g.kind in TASTE_KINDS
        and (g.kind != "other" or len(g.columns) == 1)
        and not np.isnan(sample[:, list(g.columns)]).all()
    ]
    if not picked or len(sample) == 0:
        return []
    rows = np.tile(reference.row, (2 * len(picked), 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanpercentile(sample, 10, axis=0)
        high = np.nanpercentile(sample, 90, axis=0)
    for k, g in enumerate(picked):
        idx = list(g.columns)
        binary = g.kind in ("flag", "mode")
        rows[2 * k, idx] = 0.0 if binary else low[idx]
        rows[2 * k + 1, idx] = 1.0 if binary else high[idx]
    p = probability(rows)
    _, occluded = occlusion_effects(probability, sample, reference.row, picked)
    importance = np.abs(occluded).mean(axis=0)
    items = []
    for k in np.argsort(-importance, kind="stable"):
        g = picked[k]
        effect = float(p[2 * k + 1] - p[2 * k])
        if abs(effect) < TASTE_MIN_EFFECT or importance[k] < TASTE_MIN_EFFECT / 10:
            continue
        if g.kind == "flag":
            items.append(TasteItem(g.name, flag_word(g), effect))
        else:
            up = effect > 0
            items.append(TasteItem(g.name, side_word(g, up), abs(effect), side_word(g, not up)))
    return items
