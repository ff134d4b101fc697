"""Why a track got its score: the features that moved it, and the rated tracks it is near.

**Reasons** are Shapley values of readable feature groups (tempo; mode; the
16 performer buckets together; one instrument; the pitch profile; ...)
against the *average candidate* - a reference row, the column-wise median of
a fixed sample of candidates.  A group's effect is its average contribution
to ``p(track) - p(average candidate)`` when the track's groups are switched
from the reference to the track's values one at a time in random orders;
the effects add up to that difference, in probability points on the
listener's scale, and the three largest in size are the reasons.

Why not the simpler occlusion (set one group to the reference, score again),
which bachbot used first: it only sees what one group does alone.  A
saturated model - the study's logistic (2, 2) MLP gives most loved-looking
candidates the same ceiling score - is flat around such a track, so taking
away any one group changes nothing; the demo's published tracks got zero to
two reasons, several of "0.0 pts".  Shapley values share the whole
difference among the groups that together tip the model.  Their cost is kept
to a fraction of a second for 500 tracks by antithetic pairs of orders and
by bisecting each path (:func:`shapley_attribution`), with no new dependency
(the ``shap`` package's permutation explainer does the same walk row by row)
and for every model bachbot has (MLP, logistic regression, k-NN, trees, cold
start).  ``bench/`` measures how often the top reason agrees with Shapley
values from 64 permutations.

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
MAX_PAIRS = 16
"""At most 32 orders per track (a saturated model needs several to spread the credit)."""
ROW_BUDGET = 128
"""Model rows per track after which no more pairs of orders are drawn."""
TOLERANCE = 1e-4
"""A path half whose ends differ by at most this (0.01 points) is not bisected further."""
MIN_EFFECT = 5e-4
"""A reason must move the score by at least this much (shown as 0.1 points at the least)."""
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
    own = getattr(model, "probability", None)
    if callable(own):
        return lambda X: np.asarray(own(X), dtype=float)
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
    average: float
    """p(the average candidate) the effects are measured from (see the module)."""
    gaps: bool = False
    """The track lacks descriptors the average candidate has; they are left out of
    ``average`` too (a missing value is not a reason)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "shapley",
            "average_candidate": round(self.average, 4),
            "average_without_gaps": self.gaps,
            "reasons": [r.to_dict() for r in self.reasons],
            "neighbours": [n.to_dict() for n in self.neighbours],
            "audio": self.audio,
            **({} if self.audio else {"note": NO_AUDIO}),
        }


def differing_groups(
    X: Array, reference: Array, groups: Sequence[FeatureGroup]
) -> NDArray[np.bool_]:
    """(rows, groups): where a track has a value for the group that differs from the reference.

    The other groups - unknown for this track (no audio), or equal to the
    average candidate - are left as the track has them on every path and get
    no credit.
    """
    X = np.asarray(X, dtype=float)
    out = np.zeros((len(X), len(groups)), dtype=bool)
    for g, group in enumerate(groups):
        idx = list(group.columns)
        values, ref = X[:, idx], reference[idx]
        known = ~np.isnan(values).all(axis=1)
        same = np.all((values == ref) | (np.isnan(values) & np.isnan(ref)), axis=1)
        out[:, g] = known & ~same
    return out


@dataclass(frozen=True)
class Attribution:
    """What :func:`shapley_attribution` found for a block of rows."""

    probability: Array
    """p(track), per row."""
    start: Array
    """p(the average candidate, with the track's unknown groups left unknown), per row."""
    effects: Array
    """(rows, groups): each group's share of ``probability - start``."""
    rows_evaluated: int
    """Model rows it took (the cost; the bench reports it)."""


def shapley_attribution(
    probability: Probability,
    X: Array,
    reference: Array,
    groups: Sequence[FeatureGroup],
    *,
    budget: int = ROW_BUDGET,
    pairs: int = MAX_PAIRS,
    tolerance: float = TOLERANCE,
    seed: int = 0,
) -> Attribution:
    """Sampled Shapley values of the groups, against the reference row: see the module.

    Each permutation of a track's differing groups is a path from the start
    row to the track, switching one group at a time from the reference to the
    track's value; a group's effect is the change of probability at its step,
    averaged over the permutations.  Permutations come in antithetic pairs (an
    order and its reverse), which is exact for models whose groups interact
    at most in pairs.  A path is *bisected*: the probability is computed at
    its midpoint, and a half whose two ends differ by at most ``tolerance``
    is not looked into (its steps sum to that difference, so at most
    ``tolerance`` of credit goes unassigned).  A saturated model - flat
    almost everywhere, one jump - costs about ``2 log2(groups)`` rows per
    path instead of ``groups``.  The first pair is drawn for every track; more
    pairs, up to ``pairs``, while the track's cost stays within ``budget``
    rows (a smooth model stops at one or two pairs, a saturated one gets up
    to ``pairs``, which is what spreads the credit over the groups that
    together tip it).  Orders are drawn from ``seed``, so a block's
    explanations are reproducible.
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    differs = differing_groups(X, reference, groups)
    owner = np.full(d, -1)
    for g, group in enumerate(groups):
        owner[list(group.columns)] = g
    base = probability(X) if n else np.empty(0)
    switched = differs[:, np.maximum(owner, 0)] & (owner >= 0)
    start = probability(np.where(switched, reference, X)) if n else np.empty(0)
    effects = np.zeros((n, len(groups)))
    paths = np.zeros(n)
    cost = np.zeros(n)
    rng = np.random.default_rng(seed)
    active = np.flatnonzero(differs.any(axis=1) & (np.abs(base - start) > tolerance))
    draws = {int(i): 1 for i in active}
    for phase in range(2):
        orders: list[tuple[int, NDArray[np.int64]]] = []
        for i, count in draws.items():
            mine = np.flatnonzero(differs[i])
            for _ in range(count):
                order = rng.permutation(mine)
                orders += [(i, order), (i, order[::-1])]
        evaluated = _walk_paths(
            probability, X, reference, owner, orders, len(groups), base, start, effects, tolerance
        )
        np.add.at(cost, [i for i, _ in orders], evaluated)
        np.add.at(paths, [i for i, _ in orders], 1)
        if phase == 0:
            per_pair = {i: max(cost[i], 1.0) for i in draws}
            draws = {
                i: extra
                for i, spent in per_pair.items()
                if (extra := min(pairs - 1, int((budget - spent) // spent))) > 0
            }
            if not draws:
                break
    done = paths > 0
    effects[done] /= paths[done, None]
    return Attribution(base, start, effects, int(cost.sum()) + 2 * n)


def _walk_paths(
    probability: Probability,
    X: Array,
    reference: Array,
    owner: NDArray[np.int64],
    orders: Sequence[tuple[int, NDArray[np.int64]]],
    n_groups: int,
    base: Array,
    start: Array,
    effects: Array,
    tolerance: float,
) -> NDArray[np.int64]:
    """Bisect each (row, order) path, adding its steps to ``effects``; rows used per path."""
    if not orders:
        return np.zeros(0, dtype=np.int64)
    d = X.shape[1]
    rows = np.array([i for i, _ in orders])
    longest = max(len(o) for _, o in orders)
    order_of = np.full((len(orders), longest), -1)
    rank = np.full((len(orders), d), -1)
    for p, (_, order) in enumerate(orders):
        order_of[p, : len(order)] = order
        position = np.full(n_groups, -1)
        position[order] = np.arange(len(order))
        rank[p] = np.where(owner >= 0, position[np.maximum(owner, 0)], -1)
    used = np.zeros(len(orders), dtype=np.int64)
    path = np.arange(len(orders))
    lo = np.zeros(len(orders), dtype=np.int64)
    hi = np.array([len(o) for _, o in orders])
    f_lo, f_hi = start[rows].copy(), base[rows].copy()
    while len(path):
        step = (hi - lo) == 1
        np.add.at(
            effects, (rows[path[step]], order_of[path[step], lo[step]]), f_hi[step] - f_lo[step]
        )
        split = ((hi - lo) > 1) & (np.abs(f_hi - f_lo) > tolerance)
        path, lo, hi, f_lo, f_hi = path[split], lo[split], hi[split], f_lo[split], f_hi[split]
        if not len(path):
            break
        mid = (lo + hi) // 2
        take = rank[path] < mid[:, None]
        f_mid = probability(np.where(take, X[rows[path]], reference))
        np.add.at(used, path, 1)
        path = np.concatenate([path, path])
        lo, hi = np.concatenate([lo, mid]), np.concatenate([mid, hi])
        f_lo, f_hi = np.concatenate([f_lo, f_mid]), np.concatenate([f_mid, f_hi])
    return used


def shapley_effects(
    probability: Probability,
    x: Array,
    reference: Array,
    groups: Sequence[FeatureGroup],
    *,
    permutations: int = 64,
    seed: int = 0,
) -> Array:
    """Shapley values of each group for one row from full paths (no bisection, no budget).

    The yardstick the bench and tests hold :func:`shapley_attribution` against
    (``permutations x groups`` model rows per track: too slow for every
    scored track).  Same start row and groups as there.
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=float)
    mine = np.flatnonzero(differing_groups(x[None, :], reference, groups)[0])
    total = np.zeros(len(groups))
    start = x.copy()
    for g in mine.tolist():
        start[list(groups[g].columns)] = reference[list(groups[g].columns)]
    for _ in range(permutations):
        order = rng.permutation(mine)
        chain = np.tile(start, (len(order) + 1, 1))
        for step, g in enumerate(order.tolist(), start=1):
            chain[step:, list(groups[g].columns)] = x[list(groups[g].columns)]
        total[order] += np.diff(probability(chain))
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
        found = shapley_attribution(self.probability, X, self.reference.row, self.groups)
        effects = found.effects
        usable = int(np.isfinite(self.reference.row).sum())
        Z = self.reference.standardise(X)
        neighbours = nearest_rated(
            Z, self.rated, self.reference.standardise(self.rated.X), usable=usable
        )
        audio: NDArray[np.bool_] = np.zeros(len(X), dtype=bool)
        if self.audio_columns:
            audio = np.asarray(~np.isnan(X[:, list(self.audio_columns)]).all(axis=1))
        known_here = [~np.isnan(X[:, list(g.columns)]).all(axis=1) for g in self.groups]
        known_there = [not np.isnan(self.reference.row[list(g.columns)]).all() for g in self.groups]
        gaps = np.zeros(len(X), dtype=bool)
        for here, there in zip(known_here, known_there, strict=True):
            gaps |= ~here & there
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
                if abs(effects[i, g]) >= MIN_EFFECT
            )
            out.append(
                Explanation(
                    reasons,
                    tuple(neighbours[i]),
                    bool(audio[i]),
                    float(found.start[i]),
                    bool(gaps[i]),
                )
            )
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


EXPLAIN_BLOCK = 100
"""Tracks per Shapley pass: its paths are walked for a whole block at once, so the
peak memory grows with the block (measured on the bench's model: 500 tracks in one pass
+159 MB, in passes of 100 +40 MB, 1.1 s and 1.2 s); a cycle's 500 new tracks go through
in five passes and its peak RSS stays under issue 21's 300 MB.  The taste summary's
500-track sample goes through in the same passes (in one, it took the cycle after a
retrain at 500,000 known tracks to 474 MB)."""


def taste_effects(
    probability: Probability, sample: Array, reference: Reference, groups: Sequence[FeatureGroup]
) -> list[TasteItem]:
    """The features that matter most to the model, with their direction, largest first.

    Read from the Shapley effects of the candidate sample's own tracks (the
    same attribution as each track's reasons).  How much a feature matters is
    its mean absolute effect over the sample (so a flag that few tracks have
    matters little overall, however large its effect on those few).  Its
    direction and size: the mean effect on the tracks above the average
    candidate (a flag: that have it; a key: major) minus the mean effect on
    those below (without it; minor), in probability points.  An earlier
    version moved the average candidate itself from low to high; on a
    saturated model the average candidate sits on a plateau where nothing
    moves it, and the taste summary came out empty.  Performers, keys, works
    and the pitch/timbre profiles have no low and high; the status page lists
    works and performers from the ratings instead.
    """
    sample = np.asarray(sample, dtype=float)
    picked = [
        (k, g)
        for k, g in enumerate(groups)
        if g.kind in TASTE_KINDS
        and (g.kind != "other" or len(g.columns) == 1)
        and not np.isnan(sample[:, list(g.columns)]).all()
    ]
    if not picked or len(sample) == 0:
        return []
    shares = np.vstack([
        shapley_attribution(
            probability, sample[start : start + EXPLAIN_BLOCK], reference.row, groups
        ).effects
        for start in range(0, len(sample), EXPLAIN_BLOCK)
    ])  # fmt: skip
    found: list[tuple[float, TasteItem]] = []
    for k, g in picked:
        side = _sides(g, sample, reference.row)
        effect = _mean(shares[side > 0, k]) - _mean(shares[side < 0, k])
        importance = float(np.abs(shares[:, k]).mean())
        if abs(effect) < TASTE_MIN_EFFECT or importance < TASTE_MIN_EFFECT / 10:
            continue
        if g.kind == "flag":
            item = TasteItem(g.name, flag_word(g), effect)
        else:
            up = effect > 0
            item = TasteItem(g.name, side_word(g, up), abs(effect), side_word(g, not up))
        found.append((importance, item))
    found.sort(key=lambda pair: -pair[0])
    return [item for _, item in found]


def _mean(values: Array) -> float:
    return float(values.mean()) if len(values) else 0.0


def _sides(group: FeatureGroup, X: Array, reference: Array) -> NDArray[np.int64]:
    """+1 / -1 / 0 per row: above, below or level with the reference (unknown: 0).

    A flag or a mode is above when set (present, major); a scalar is compared
    on the first of its columns both the row and the reference know, since
    its columns come from providers with different scales.
    """
    out = np.zeros(len(X), dtype=np.int64)
    decided = np.zeros(len(X), dtype=bool)
    binary = group.kind in ("flag", "mode")
    for j in group.columns:
        values = X[:, j]
        known = ~np.isnan(values) & ~decided
        if binary:
            out[known] = np.where(values[known] >= 0.5, 1, -1)
        elif not np.isnan(reference[j]):
            out[known] = np.sign(values[known] - reference[j]).astype(np.int64)
        else:
            continue
        decided |= known
    return out
