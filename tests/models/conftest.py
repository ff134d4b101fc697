"""Small, quick model options and synthetic data shared by the model tests."""

from __future__ import annotations

import numpy as np
import pytest

from models.options import ModelOptions
from models.target import Labels, from_ratings

QUICK = ModelOptions(seed=0, outer_splits=3, outer_repeats=1, inner_splits=2, fast=True)


def taste_data(n: int = 60, p: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ratings 1-10 that depend smoothly on the first two columns (learnable)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    signal = 1.5 * X[:, 0] - 1.0 * X[:, 1] + 0.3 * rng.normal(size=n)
    y = np.clip(np.round(5.5 + 1.5 * signal), 1, 10)
    return X, y


def taste_labels(n: int = 60, p: int = 6, seed: int = 0) -> tuple[np.ndarray, Labels]:
    """The same data as loved (rating >= 7) or not, every rating explicit."""
    X, y = taste_data(n, p, seed)
    return X, from_ratings(y, explicit=np.ones(n, dtype=bool))


@pytest.fixture
def quick() -> ModelOptions:
    return QUICK
