"""Replay the learning loop on a labelled table: how fast does bachbot learn a taste?

Each row of the table is a track and its label the listener's hidden answer.
A replay runs the daemon's own decisions round after round - the train job's
cold start, nested CV and promotion gate (:func:`jobs.train.decide_training`),
scoring (:func:`models.pipeline.score`), "Predicted favourites" with its caps
and exploration (:func:`jobs.playlist_plan.plan_playlist`) and "Bach to rate"
(:func:`jobs.playlist_plan.pick_to_rate`) - and reveals a label only the way
Spotify would: a published track the listener loves becomes a like, one they
do not love a removal, and a track put in "Bach to rate" gets an explicit
answer.  Nothing is revealed twice and nothing else is revealed.

The same rounds run for simple policies on the same pool (:data:`POLICIES`):
``random``, ``nn`` (nearest neighbour to the likes so far), ``popular`` (a
popularity column, where the table has one) and ``oracle`` (knows every
label: the ceiling).  Each starts from the same few likes (the listener's
library before bachbot) and learns only from what it published itself.

:func:`active_learning_trial` measures "Bach to rate" alone: with a fixed
held-out part of the table, how the ROC AUC of the model in use grows with
the number of answers when the picks are bachbot's or random.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from jobs.playlist_plan import Candidate, Typicality, pick_to_rate, plan_playlist
from jobs.train import InUse, decide_training, in_use_after, model_options
from jobs.training_data import TrainingData
from models.errors import ModelError
from models.folds import Grouping
from models.metrics import roc_auc
from models.pipeline import Array, TasteModel, score
from models.target import from_ratings
from models.typicality import (
    reference_sample,
    squared_distances,
    standardised,
    typicality,
)
from service.settings import Settings

Policy = Literal["bachbot", "random", "nn", "popular", "oracle"]
POLICIES: tuple[Policy, ...] = ("bachbot", "random", "nn", "popular", "oracle")
Progress = Callable[[str], None]


class ReplayError(ModelError):
    """A replay that cannot run as asked (too few loved rows for the start, bad sizes)."""


@dataclass(frozen=True)
class ReplayTable:
    """The tracks of a replay: features, the hidden answers, and how rows relate."""

    X: Array
    loved: NDArray[np.bool_]
    """The listener's hidden answer: loves the track or not."""
    answers: NDArray[np.float64]
    """The explicit 1-10 rating the listener would give when asked."""
    columns: tuple[str, ...]
    works: tuple[str | None, ...]
    """The group of each row (same work or same song): caps and grouped folds."""
    popularity: Array | None = None

    @property
    def n(self) -> int:
        return len(self.loved)


def table_from(
    X: Array,
    loved: NDArray[np.bool_],
    *,
    columns: Sequence[str],
    settings: Settings,
    ratings: Array | None = None,
    groups: NDArray[np.int64] | None = None,
    popularity: Array | None = None,
) -> ReplayTable:
    """A replay table; without ``ratings`` an explicit answer is a like's or a removal's value."""
    loved = np.asarray(loved, dtype=bool)
    answers = (
        np.asarray(ratings, dtype=float)
        if ratings is not None
        else np.where(loved, float(settings.like_rating), float(settings.removal_rating))
    )
    works: tuple[str | None, ...] = (
        (None,) * len(loved) if groups is None else tuple(f"g{int(g)}" for g in groups)
    )
    return ReplayTable(
        X=np.asarray(X, dtype=float),
        loved=loved,
        answers=answers,
        columns=tuple(columns),
        works=works,
        popularity=popularity,
    )


@dataclass(frozen=True)
class ReplayOptions:
    rounds: int = 10
    playlist_size: int = 30
    to_rate: int = 10
    """Tracks in "Bach to rate" per round (0: no such playlist)."""
    start_likes: int = 5
    """Loved tracks the listener had liked before bachbot started."""
    explore: float | None = None
    """Share of playlist slots for exploration (None: the setting's value)."""
    fast: bool = False


@dataclass
class Revealed:
    """What the loop has learnt about the listener so far: one event per track, never two."""

    rows: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    explicit: list[bool] = field(default_factory=list)

    def __contains__(self, row: int) -> bool:
        return row in self._seen

    def __post_init__(self) -> None:
        self._seen: set[int] = set()

    def add(self, row: int, value: float, *, explicit: bool) -> None:
        if row in self._seen:
            raise AssertionError(f"row {row} revealed twice")
        self._seen.add(row)
        self.rows.append(row)
        self.values.append(value)
        self.explicit.append(explicit)

    @property
    def n(self) -> int:
        return len(self.rows)


def reveal_published(
    table: ReplayTable, revealed: Revealed, rows: Sequence[int], settings: Settings
) -> None:
    """A published track becomes a like (loved) or a removal (not loved)."""
    for row in rows:
        value = settings.like_rating if table.loved[row] else settings.removal_rating
        revealed.add(row, float(value), explicit=False)


def reveal_asked(table: ReplayTable, revealed: Revealed, rows: Sequence[int]) -> None:
    """A track in "Bach to rate" gets the listener's explicit answer."""
    for row in rows:
        revealed.add(row, float(table.answers[row]), explicit=True)


def training_data(table: ReplayTable, revealed: Revealed, settings: Settings) -> TrainingData:
    """The revealed rows as the train job sees stored ratings (events in reveal order)."""
    rows = np.asarray(revealed.rows, dtype=np.int64)
    labels = from_ratings(
        revealed.values, threshold=settings.love_threshold, explicit=revealed.explicit
    )
    works = [table.works[r] for r in rows]
    keys = {w: i for i, w in enumerate(dict.fromkeys(works))}
    ids = np.array([keys[w] if w is not None else len(keys) + i for i, w in enumerate(works)])
    return TrainingData(
        track_ids=tuple(str(r) for r in rows),
        X=table.X[rows],
        labels=labels,
        groupings=(Grouping("work", ids.astype(np.int64)),),
        event_ids=np.arange(1, len(rows) + 1, dtype=np.int64),
    )


@dataclass
class BachbotState:
    """The replay's stand-in for the model registry: the model in use, in memory."""

    in_use: InUse | None = None
    model: TasteModel | None = None
    label: str = "none"


def train_round(
    table: ReplayTable,
    revealed: Revealed,
    state: BachbotState,
    *,
    settings: Settings,
    seed: int,
    fast: bool,
) -> str:
    """One run of the train job on what is revealed; returns the gate's outcome."""
    # report=False and study=False leave out what only the report reads (same decision).
    options = replace(model_options(settings, fast=fast), seed=seed, report=False, study=False)
    data = training_data(table, revealed, settings)
    trained = decide_training(
        data, state.in_use, settings=settings, options=options, columns=table.columns
    )
    chosen = trained.in_use
    if chosen is not None:
        state.in_use = in_use_after(chosen, n_ratings=data.n)
        state.model = chosen.model
        auc = chosen.metrics.get("score")
        state.label = chosen.model.kind + ("" if auc is None else f" {auc:.3f}")
    return trained.report.outcome or trained.report.status


def candidates(table: ReplayTable, rows: NDArray[np.int64], model: TasteModel) -> list[Candidate]:
    prob, spread = score(model, table.X[rows])
    return [
        Candidate(str(r), float(p), None if math.isnan(u) else float(u), table.works[r])
        for r, p, u in zip(rows.tolist(), prob, spread, strict=True)
    ]


def bachbot_picks(
    table: ReplayTable,
    revealed: Revealed,
    state: BachbotState,
    *,
    settings: Settings,
    options: ReplayOptions,
) -> tuple[list[int], list[int]]:
    """The two playlists as the daemon would plan them from the model in use."""
    if state.model is None:
        return [], []
    open_rows = np.array([r for r in range(table.n) if r not in revealed], dtype=np.int64)
    pool = candidates(table, open_rows, state.model)
    explore = settings.explore if options.explore is None else options.explore
    playlist = plan_playlist(
        pool,
        excluded=set(),
        size=options.playlist_size,
        min_score=settings.playlist_min_probability,
        max_per_work=settings.max_per_work,
        explore=explore,
    )
    to_rate = (
        pick_to_rate(
            pool, excluded=set(playlist), size=options.to_rate,
            typicality=typical_of(table, open_rows, seed=revealed.n),
            seed=revealed.n,
        )
        if options.to_rate
        else []
    )  # fmt: skip
    return [int(t) for t in playlist], [int(t) for t in to_rate]


def typical_of(table: ReplayTable, open_rows: NDArray[np.int64], *, seed: int) -> Typicality:
    """How typical shortlisted rows are of the open ones (as the publish job measures it)."""
    Z = standardised(table.X)
    sample = reference_sample([str(r) for r in open_rows.tolist()], seed=seed)
    reference = Z[np.array([int(r) for r in sample], dtype=np.int64)]

    def weigh(shortlist: Sequence[Candidate]) -> Sequence[float]:
        rows = np.array([int(c.track_id) for c in shortlist], dtype=np.int64)
        return [float(w) for w in typicality(Z[rows], reference)]

    return weigh


def _capped(order: Sequence[int], table: ReplayTable, size: int, max_per_work: int) -> list[int]:
    chosen: list[int] = []
    per_work: dict[str, int] = {}
    for row in order:
        if len(chosen) >= size:
            break
        work = table.works[row]
        if work is not None:
            if per_work.get(work, 0) >= max_per_work:
                continue
            per_work[work] = per_work.get(work, 0) + 1
        chosen.append(row)
    return chosen


def nearest_order(pool: Array, likes: Array) -> NDArray[np.int64]:
    """Indices of ``pool`` by distance to the nearest liked track, nearest first.

    The nearest-neighbour ranker every learner of taste should beat: "more
    like what you liked", in standardised feature space.
    """
    if len(likes) == 0 or len(pool) == 0:
        return np.arange(len(pool), dtype=np.int64)
    nearest = np.full(len(pool), np.inf)
    for start in range(0, len(pool), 2048):
        block = pool[start : start + 2048]
        d = squared_distances(block, likes).min(axis=1)
        nearest[start : start + 2048] = d
    return np.asarray(np.lexsort((np.arange(len(pool)), nearest)), dtype=np.int64)


def baseline_picks(
    policy: Policy,
    table: ReplayTable,
    revealed: Revealed,
    *,
    rng: np.random.Generator,
    size: int,
    max_per_work: int,
    love_threshold: float,
    Z: Array,
) -> list[int]:
    """The playlist of a simple policy (same size and work cap as bachbot's)."""
    open_rows = np.array([r for r in range(table.n) if r not in revealed], dtype=np.int64)
    if policy == "random":
        order = rng.permutation(open_rows)
    elif policy == "oracle":
        shuffled = rng.permutation(open_rows)
        order = np.concatenate([shuffled[table.loved[shuffled]], shuffled[~table.loved[shuffled]]])
    elif policy == "popular":
        assert table.popularity is not None
        pop = np.nan_to_num(table.popularity[open_rows], nan=-np.inf)
        order = open_rows[np.lexsort((open_rows, -pop))]
    elif policy == "nn":
        likes = [
            r for r, v in zip(revealed.rows, revealed.values, strict=True) if v >= love_threshold
        ]
        if not likes:
            order = rng.permutation(open_rows)
        else:
            order = open_rows[nearest_order(Z[open_rows], Z[np.asarray(likes)])]
    else:
        raise ReplayError(f"unknown policy {policy!r}")
    return _capped(order.tolist(), table, size, max_per_work)


@dataclass(frozen=True)
class RoundResult:
    round: int
    ratings: int
    """Ratings the policy had when it planned this round's playlist."""
    published: int
    loved: int
    model: str | None = None
    outcome: str | None = None
    asked: int = 0
    published_rows: tuple[int, ...] = ()
    asked_rows: tuple[int, ...] = ()

    @property
    def loved_share(self) -> float:
        return self.loved / self.published if self.published else math.nan


def start_likes(table: ReplayTable, count: int, rng: np.random.Generator) -> list[int]:
    loved = np.flatnonzero(table.loved)
    if len(loved) < count + 1:
        raise ReplayError(
            f"the table has {len(loved)} loved rows; a replay starts from {count} of them"
        )
    return [int(r) for r in rng.choice(loved, size=count, replace=False)]


def run_policy(
    policy: Policy,
    table: ReplayTable,
    *,
    settings: Settings,
    options: ReplayOptions,
    seed: int,
    progress: Progress | None = None,
    likes: Sequence[int] | None = None,
) -> list[RoundResult]:
    """One policy over all rounds from the seed's starting likes (or the ``likes`` given)."""
    rng = np.random.default_rng(seed)
    drawn = start_likes(table, options.start_likes, rng)
    likes = drawn if likes is None else likes
    revealed = Revealed()
    for row in likes:
        revealed.add(row, float(settings.like_rating), explicit=False)
    state = BachbotState()
    Z = standardised(table.X) if policy == "nn" else table.X
    results: list[RoundResult] = []
    for round_no in range(1, options.rounds + 1):
        before = revealed.n
        outcome = None
        asked: list[int] = []
        if policy == "bachbot":
            outcome = train_round(
                table, revealed, state, settings=settings, seed=seed, fast=options.fast
            )
            playlist, asked = bachbot_picks(
                table, revealed, state, settings=settings, options=options
            )
        else:
            playlist = baseline_picks(
                policy, table, revealed, rng=rng, size=options.playlist_size,
                max_per_work=settings.max_per_work, love_threshold=settings.love_threshold, Z=Z,
            )  # fmt: skip
        loved = int(table.loved[playlist].sum()) if playlist else 0
        reveal_published(table, revealed, playlist, settings)
        reveal_asked(table, revealed, asked)
        result = RoundResult(
            round_no, before, len(playlist), loved,
            state.label if policy == "bachbot" else None, outcome, len(asked),
            tuple(playlist), tuple(asked),
        )  # fmt: skip
        results.append(result)
        if progress is not None:
            progress(
                f"seed {seed} {policy:>7} round {round_no:>2}: {before} ratings, "
                f"{loved}/{len(playlist)} loved" + (f", model {state.label}" if outcome else "")
            )
    return results


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    values: tuple[float, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "mean": _r(self.mean), "low": _r(self.low), "high": _r(self.high),
            "per_seed": [_r(v) for v in self.values],
        }  # fmt: skip


def _r(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def interval(values: Sequence[float]) -> Interval:
    """Mean and 95 % t-interval over seeds (NaN seeds - nothing published - left out)."""
    from scipy import stats

    kept = np.array([v for v in values if not math.isnan(v)], dtype=float)
    if len(kept) == 0:
        return Interval(math.nan, math.nan, math.nan, tuple(values))
    mean = float(kept.mean())
    if len(kept) < 2:
        return Interval(mean, math.nan, math.nan, tuple(values))
    half = float(stats.t.ppf(0.975, len(kept) - 1) * kept.std(ddof=1) / math.sqrt(len(kept)))
    return Interval(mean, mean - half, mean + half, tuple(values))


@dataclass
class Replay:
    """Every policy's rounds for every seed, and the summary the CLI prints."""

    seeds: tuple[int, ...]
    policies: tuple[Policy, ...]
    runs: dict[Policy, list[list[RoundResult]]]
    """Per policy, per seed, the rounds."""

    def share(self, policy: Policy, round_index: int) -> Interval:
        return interval([seed_runs[round_index].loved_share for seed_runs in self.runs[policy]])

    @property
    def rounds(self) -> int:
        return len(self.runs["bachbot"][0])

    def summary(self) -> dict[str, object]:
        last = self.rounds - 1
        out: dict[str, object] = {
            "seeds": list(self.seeds),
            "last_round": {p: self.share(p, last).to_dict() for p in self.policies},
        }
        if "nn" in self.policies:
            diff = [
                b[last].loved_share - n[last].loved_share
                for b, n in zip(self.runs["bachbot"], self.runs["nn"], strict=True)
            ]
            out["bachbot_minus_nn"] = interval(diff).to_dict()
        return out

    def to_dict(self) -> dict[str, object]:
        rounds = []
        for i in range(self.rounds):
            first = self.runs["bachbot"]
            rounds.append(
                {
                    "round": i + 1,
                    "ratings": interval([float(s[i].ratings) for s in first]).mean,
                    "model": [s[i].model for s in first],
                    "gate": [s[i].outcome for s in first],
                    "loved_share": self.share("bachbot", i).to_dict(),
                    "published": interval([float(s[i].published) for s in first]).mean,
                    "baselines": {
                        p: self.share(p, i).to_dict() for p in self.policies if p != "bachbot"
                    },
                }
            )
        return {"rounds": rounds, "summary": self.summary()}


def run_replay(
    table: ReplayTable,
    *,
    settings: Settings,
    options: ReplayOptions,
    seeds: Sequence[int],
    progress: Progress | None = None,
) -> Replay:
    """Every policy on the same seeds (same starting likes per seed)."""
    policies = tuple(p for p in POLICIES if p != "popular" or table.popularity is not None)
    runs: dict[Policy, list[list[RoundResult]]] = {p: [] for p in policies}
    for seed in seeds:
        for policy in policies:
            runs[policy].append(
                run_policy(
                    policy,
                    table,
                    settings=settings,
                    options=options,
                    seed=seed,
                    progress=progress,
                )
            )
    return Replay(tuple(seeds), policies, runs)


Picks = Literal["active", "random"]


@dataclass(frozen=True)
class LearningCurve:
    """ROC AUC of the model in use on held-out rows after each batch of answers."""

    picks: Picks
    ratings: tuple[int, ...]
    auc: tuple[float, ...]


def active_learning_trial(
    table: ReplayTable,
    *,
    picks: Picks,
    settings: Settings,
    seed: int,
    rounds: int,
    batch: int,
    start: int = 5,
    fast: bool = False,
    holdout_share: float = 0.3,
) -> LearningCurve:
    """ "Bach to rate" alone: answers to ``batch`` picks a round, AUC on a fixed hold-out.

    The hold-out (a share of the works, never shown) is the same for both
    kinds of picks on one seed, and so are the starting likes.
    """
    rng = np.random.default_rng(seed)
    works = np.array([w if w is not None else f"row{i}" for i, w in enumerate(table.works)])
    unique = rng.permutation(np.unique(works))
    held_works = set(unique[: int(len(unique) * holdout_share)].tolist())
    held = np.array([w in held_works for w in works])
    test_rows = np.flatnonzero(held)
    pool_table = table
    revealed = Revealed()
    loved_pool = np.flatnonzero(table.loved & ~held)
    for row in rng.choice(loved_pool, size=start, replace=False):
        revealed.add(int(row), float(settings.like_rating), explicit=False)
    state = BachbotState()
    pick_rng = np.random.default_rng(seed + 10_000)
    counts: list[int] = []
    aucs: list[float] = []
    for _ in range(rounds):
        train_round(pool_table, revealed, state, settings=settings, seed=seed, fast=fast)
        assert state.model is not None
        prob, _ = score(state.model, table.X[test_rows])
        counts.append(revealed.n)
        aucs.append(roc_auc(table.loved[test_rows].astype(np.int64), prob))
        open_rows = np.array(
            [r for r in range(table.n) if r not in revealed and not held[r]], dtype=np.int64
        )
        if picks == "active":
            picked = pick_to_rate(
                candidates(table, open_rows, state.model), excluded=set(), size=batch,
                typicality=typical_of(table, open_rows, seed=revealed.n),
            seed=revealed.n,
            )  # fmt: skip
            chosen = [int(t) for t in picked]
        else:
            chosen = [int(r) for r in pick_rng.choice(open_rows, size=batch, replace=False)]
        reveal_asked(table, revealed, chosen)
    return LearningCurve(picks, tuple(counts), tuple(aucs))


def ratings_to_reach(curve: LearningCurve, target: float) -> float:
    """Ratings the curve needs to reach ``target`` AUC (linear between rounds; NaN: never)."""
    for i, auc in enumerate(curve.auc):
        if auc >= target:
            if i == 0:
                return float(curve.ratings[0])
            a0, a1 = curve.auc[i - 1], auc
            r0, r1 = curve.ratings[i - 1], curve.ratings[i]
            return r0 + (r1 - r0) * (target - a0) / (a1 - a0) if a1 > a0 else float(r1)
    return math.nan
