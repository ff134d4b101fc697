"""What the model learns: whether the listener loves a track.

bachbot's feedback is mostly binary and implicit - a like, a removal from the
playlist, nothing - plus a few explicit 1-10 ratings.  Regressing on the
constants a like or a removal stands for (8 and 2) mostly measured how well a
model reproduces those constants, so the model instead estimates the
probability that the listener loves a track:

* a rating at or above ``love_threshold`` (a like is ``like_rating``, 8 by
  default; an explicit 7-10) is a positive;
* anything below it (a removal, an exposure without a like, an explicit 1-6)
  is a negative.

The ratings themselves stay as *graded relevance* for the ranking metric
(NDCG rewards putting a 10 above an 8), and the explicit ones feed the
study's regression R2, reported beside the classifier for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

DEFAULT_LOVE_THRESHOLD = 7.0
"""Ratings at or above this count as loved (a like is 8, a removal 2)."""

RATING_MIN, RATING_MAX = 1.0, 10.0


@dataclass(frozen=True)
class Labels:
    """The learning target of a set of rated tracks, in one fixed row order."""

    loved: NDArray[np.int64]
    """1 where the listener loves the track, else 0."""
    relevance: NDArray[np.float64]
    """Graded relevance in [0, 1] for NDCG: the rating rescaled (or the 0/1 label)."""
    ratings: NDArray[np.float64] | None = None
    """The ratings behind the labels, when the target was a rating scale."""
    explicit: NDArray[np.bool_] | None = None
    """Rows whose rating the listener gave explicitly (not a like or a removal)."""

    @property
    def n_positive(self) -> int:
        return int(self.loved.sum())

    @property
    def n_negative(self) -> int:
        return int(len(self.loved) - self.loved.sum())


def from_ratings(
    ratings: Sequence[float] | NDArray[np.float64],
    *,
    threshold: float = DEFAULT_LOVE_THRESHOLD,
    explicit: Sequence[bool] | NDArray[np.bool_] | None = None,
) -> Labels:
    """Labels from ratings on the 1-10 scale (likes and removals included)."""
    values = np.asarray(ratings, dtype=float)
    loved = (values >= threshold).astype(np.int64)
    relevance = np.clip((values - RATING_MIN) / (RATING_MAX - RATING_MIN), 0.0, 1.0)
    mask = None if explicit is None else np.asarray(explicit, dtype=bool)
    return Labels(loved=loved, relevance=relevance, ratings=values, explicit=mask)


def from_binary(values: Sequence[float] | NDArray[np.float64]) -> Labels:
    """Labels from a 0/1 column (a liked/disliked table)."""
    loved = np.asarray(values, dtype=float).astype(np.int64)
    return Labels(loved=loved, relevance=loved.astype(float))


def is_binary(values: NDArray[np.float64]) -> bool:
    """True for a column holding exactly the values 0 and 1."""
    return set(np.unique(values).tolist()) == {0.0, 1.0}
