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
  reach after N answers, as a share of N (below 1: fewer), read off the
  curves averaged over seeds, with a 95 % bootstrap interval over the seeds
  (:func:`label_efficiency`).  N is fixed in advance: half the rounds and all
  of them (where both curves level off, the second says least).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

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


@dataclass(frozen=True)
class Efficiency:
    """Answers bachbot's picks need to reach the ROC AUC random picks reach after ``at``.

    Read off the learning curves averaged over seeds (one seed's curve jumps
    by a few hundredths from round to round as the model in use changes; a
    first crossing of such a curve is mostly noise), with a 95 % percentile
    interval from resampling the seeds (paired: a resampled seed brings both
    of its curves).  ``ratio`` below 1: fewer answers than random picks; inf:
    bachbot's curve never reached it within the rounds.
    """

    at: int
    target: float
    ratio: float
    low: float
    high: float
    seeds: int

    def to_dict(self) -> dict[str, object]:
        def r(v: float) -> float | str:
            return "inf" if math.isinf(v) else round(v, 3)

        return {"at": self.at, "target_auc": round(self.target, 4), "ratio": r(self.ratio),
                "low": r(self.low), "high": r(self.high), "seeds": self.seeds}  # fmt: skip

    def as_text(self) -> str:
        def x(v: float) -> str:
            return "never" if math.isinf(v) else f"{v:.2f}x"

        return f"{x(self.ratio)} [{x(self.low)} to {x(self.high)}]"


def _ratio(active: NDArray[np.float64], rand: NDArray[np.float64], ratings: tuple[int, ...],
           at: int) -> tuple[float, float]:  # fmt: skip
    target = float(rand[at])
    needed = ratings_to_reach(LearningCurve("active", ratings, tuple(active.tolist())), target)
    return target, (needed / ratings[at] if math.isfinite(needed) else math.inf)


def label_efficiency(
    curves: Sequence[tuple[LearningCurve, LearningCurve]],
    *,
    at: int,
    resamples: int = 2_000,
    seed: int = 0,
) -> Efficiency:
    """:class:`Efficiency` at round index ``at`` of (bachbot, random) curve pairs."""
    active = np.array([a.auc for a, _ in curves], dtype=float)
    rand = np.array([r.auc for _, r in curves], dtype=float)
    ratings = curves[0][1].ratings
    target, ratio = _ratio(active.mean(axis=0), rand.mean(axis=0), ratings, at)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(resamples):
        pick = rng.integers(0, len(curves), size=len(curves))
        boots.append(_ratio(active[pick].mean(axis=0), rand[pick].mean(axis=0), ratings, at)[1])
    # "lower"/"higher": no interpolation, so a share of "never" gives inf, not NaN.
    low = float(np.percentile(boots, 2.5, method="lower"))
    high = float(np.percentile(boots, 97.5, method="higher"))
    return Efficiency(ratings[at], target, ratio, low, high, len(curves))


def to_rate_curves(
    table: ReplayTable,
    *,
    settings: Settings,
    seeds: Iterable[int],
    rounds: int,
    say: Progress,
) -> list[tuple[LearningCurve, LearningCurve]]:
    """(bachbot's picks, random picks) learning curves, one pair per seed."""
    curves = []
    for seed in seeds:
        active, rand = (
            active_learning_trial(
                table, picks=picks, settings=settings, seed=seed, rounds=rounds, batch=10
            )
            for picks in ("active", "random")
        )
        curves.append((active, rand))
        say(f"to rate, seed {seed}: bachbot {active.auc[-1]:.3f}, random {rand.auc[-1]:.3f}")
    return curves


def curve_details(
    curves: Sequence[tuple[LearningCurve, LearningCurve]],
) -> list[dict[str, Any]]:
    """Per seed: both curves, and bachbot's AUC minus random's after all answers."""
    return [
        {
            "ratings": list(rand.ratings),
            "bachbot_auc": [round(a, 4) for a in active.auc],
            "random_auc": [round(a, 4) for a in rand.auc],
            "final_auc_diff": round(active.auc[-1] - rand.auc[-1], 4),
            "mean_auc_diff": round(float(np.mean(active.auc[1:]) - np.mean(rand.auc[1:])), 4),
        }
        for active, rand in curves
    ]


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
    curves = to_rate_curves(table, settings=settings, seeds=range(seeds), rounds=rounds, say=say)
    details = curve_details(curves)
    diff = interval([d["mean_auc_diff"] for d in details])
    for at in (rounds // 2, rounds - 1):
        eff = label_efficiency(curves, at=at)
        rows.append(
            Row("replay", f'"Bach to rate": answers to reach random picks\' ROC AUC after '
                f"{eff.at} answers", eff.ratio, "x", note=f"{eff.as_text()} (95% bootstrap "
                f"over {seeds} seeds) of random's {eff.at} answers to reach ROC AUC "
                f"{eff.target:.3f}; mean ROC AUC over the rounds, bachbot - random: "
                f"{diff.mean:+.3f} [{diff.low:+.3f} to {diff.high:+.3f}]",
                details={"efficiency": eff.to_dict(), "per_seed": details})
        )  # fmt: skip
    return rows
