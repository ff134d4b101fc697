"""Typicality: the density weight that keeps "Bach to rate" away from outliers."""

from __future__ import annotations

import numpy as np

from jobs.playlist_plan import Candidate, pick_to_rate
from models.typicality import reference_sample, standardised, typicality


def test_an_outlier_is_less_typical_than_a_track_in_the_crowd() -> None:
    rng = np.random.default_rng(0)
    crowd = rng.normal(size=(300, 4))
    candidates = np.array([[0.0, 0.0, 0.0, 0.0], [6.0, 6.0, 6.0, 6.0]])
    weights = typicality(candidates, crowd)
    assert weights[0] == 1.0 and weights[1] < 0.01
    assert typicality(np.empty((0, 4)), crowd).size == 0
    assert typicality(candidates, np.empty((0, 4))).tolist() == [1.0, 1.0]


def test_standardised_puts_missing_values_at_the_centre() -> None:
    X = np.array([[1.0, np.nan], [3.0, np.nan], [np.nan, np.nan]])
    Z = standardised(X)
    assert np.isfinite(Z).all() and Z[2, 0] == 0.0 and (Z[:, 1] == 0).all()


def test_the_most_uncertain_outlier_loses_to_an_uncertain_typical_track() -> None:
    pool = [Candidate("outlier", 0.5, 0.3), Candidate("typical", 0.45, 0.2),
            Candidate("sure", 0.95, 0.01)]  # fmt: skip
    weight = {"outlier": 0.05, "typical": 1.0, "sure": 0.9}
    plain = pick_to_rate(pool, excluded=set(), size=1)
    weighted = pick_to_rate(
        pool, excluded=set(), size=1, typicality=lambda short: [weight[c.track_id] for c in short]
    )
    assert plain == ["outlier"] and weighted == ["typical"]


def test_the_reference_sample_barely_moves_when_the_pool_changes() -> None:
    pool = [f"t{i}" for i in range(2000)]
    first = reference_sample(pool, seed=7, count=100)
    assert len(first) == 100 and first == reference_sample(list(reversed(pool)), seed=7, count=100)
    rated = set(first[:3])
    again = reference_sample([t for t in pool if t not in rated], seed=7, count=100)
    assert len(set(first) & set(again)) == 97  # only the rated tracks were replaced
    assert reference_sample(pool, seed=8, count=100) != first
