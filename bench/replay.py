"""Replay figures: what a replay costs, and how many answers "Bach to rate" saves.

The table is synthetic and says so: 2,000 tracks in works of three
movements, 11 descriptors with the skew of Spotify's (the ones ReccoBeats
serves), and a hidden taste of which the descriptors show only part - a
linear and a non-linear term, a per-track component of the same size and 5 %
of answers against the taste - so about a third of the tracks are loved and no
model can find them all.  Public liked/disliked tables are measured with
``bachbot replay`` itself (``bench/learning.md``).

* **replay time**: ``bachbot replay``'s code for one seed, 10 rounds,
  playlist 30 and 10 to rate, default settings (nested CV and the promotion
  gate every round), every baseline included.  Target: under 2 minutes.
* **answers saved by "Bach to rate"**: "Bach to rate" alone, 10 answers a
  round over 10 rounds, ROC AUC of the model in use on a held-out third of
  the works after each round; the same starting likes and hold-out for
  bachbot's picks and for random picks on each seed.  The figure is the
  number of answers bachbot's picks need to reach the ROC AUC random picks
  reach after all their answers, as a share of those (below 1: fewer), with a
  95 % t-interval over the seeds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.report import Row
from jobs.replay import (
    LearningCurve,
    ReplayOptions,
    ReplayTable,
    active_learning_trial,
    interval,
    ratings_to_reach,
    run_replay,
    table_from,
)
from service.settings import Settings

Progress = Callable[[str], None]
DESCRIPTORS = (
    "acousticness", "danceability", "energy", "instrumentalness", "key", "liveness", "loudness",
    "mode", "speechiness", "tempo", "valence",
)  # fmt: skip
REPLAY_TARGET_S = 120.0


def taste_table(n: int = 2_000, *, seed: int = 0, settings: Settings) -> ReplayTable:
    """A synthetic listener's table (see the module docstring)."""
    from bench.model import _descriptor

    rng = np.random.default_rng(seed)
    X = np.column_stack([_descriptor(name, rng, n) for name in DESCRIPTORS])
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    audible = 0.9 * Z[:, 0] - 0.7 * Z[:, 2] + 0.6 * Z[:, 10] + 0.8 * np.tanh(Z[:, 9] * Z[:, 6])
    taste = audible + rng.normal(scale=1.0, size=n)
    loved = taste > np.quantile(taste, 0.67)
    slips = rng.uniform(size=n) < 0.05
    loved = np.where(slips, ~loved, loved)
    return table_from(X, loved, columns=DESCRIPTORS, settings=settings,
                      groups=np.arange(n) // 3)  # fmt: skip


def answers_saved(
    curves: Sequence[tuple[LearningCurve, LearningCurve]],
) -> tuple[list[float], list[dict[str, Any]]]:
    """Per seed, bachbot's answers to reach random's final ROC AUC, over random's answers."""
    ratios: list[float] = []
    details = []
    for active, rand in curves:
        target = float(np.mean(rand.auc[-2:]))
        needed = ratings_to_reach(active, target)
        n = float(rand.ratings[-1])
        ratio = needed / n if math.isfinite(needed) else (active.ratings[-1] + 10) / n
        ratios.append(ratio)
        details.append({
            "target_auc": round(target, 4), "random_answers": n,
            "bachbot_answers": None if math.isnan(needed) else round(needed, 1),
            "reached": math.isfinite(needed),
            "bachbot_auc": [round(a, 4) for a in active.auc],
            "random_auc": [round(a, 4) for a in rand.auc],
        })  # fmt: skip
    return ratios, details


def run_replay_bench(
    *,
    settings: Settings,
    seeds: int = 5,
    rounds: int = 10,
    rows_n: int = 2_000,
    progress: Progress | None = None,
) -> list[Row]:
    say = progress or (lambda _line: None)
    table = taste_table(rows_n, settings=settings)
    options = ReplayOptions(rounds=rounds, playlist_size=30, to_rate=10)
    started = time.perf_counter()
    replay = run_replay(table, settings=settings, options=options, seeds=[0])
    seconds = time.perf_counter() - started
    last = replay.summary()["last_round"]
    rows = [
        Row("replay", f"replay {table.n:,} rows x {rounds} rounds (1 seed, all baselines)",
            seconds, "s", target=REPLAY_TARGET_S, compare="<",
            note="nested CV and the promotion gate every round", details={"last_round": last}),
    ]  # fmt: skip
    say(f"replay: {seconds:.0f} s")
    curves = []
    for seed in range(seeds):
        pair = tuple(
            active_learning_trial(
                table, picks=picks, settings=settings, seed=seed, rounds=rounds, batch=10
            )
            for picks in ("active", "random")
        )
        curves.append(pair)
        say(f"to rate, seed {seed}: bachbot {pair[0].auc[-1]:.3f}, random {pair[1].auc[-1]:.3f}")
    ratios, details = answers_saved(curves)  # type: ignore[arg-type]
    spread = interval(ratios)
    rows.append(
        Row("replay", '"Bach to rate": answers needed vs random picks (same ROC AUC)',
            spread.mean, "x", note=f"95% interval {spread.low:.2f}-{spread.high:.2f} over "
            f"{seeds} seeds; below 1 = fewer answers", details={"per_seed": details})
    )  # fmt: skip
    return rows
