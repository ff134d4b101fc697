"""Cross-validation folds that keep related rows together.

The same recording appears on several albums (a box set, a compilation, a
reissue), and many tracks are movements of one work.  With plain K-fold a
near-copy of a test track sits in the training fold and the score measures
memory, not taste.  So rows are grouped - by recording (same ISRC, or same
title, performers and duration) and, where known, by work (BWV) - and folds
never split a group.  Folds are also stratified, so every test fold holds
loved and unloved tracks and its ROC AUC is defined.

The grouping is chosen per data set: the strictest one (work + recording)
that still leaves every class spread over enough groups for the folds; the
evaluation says which one was used.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Split:
    """One fold: which rows train, which rows test."""

    repeat: int
    fold: int
    train: IntArray
    test: IntArray


@dataclass(frozen=True)
class Grouping:
    """Group ids per row and a name for people (``work + recording``, ``none``)."""

    name: str
    ids: IntArray

    @property
    def n_groups(self) -> int:
        return len(np.unique(self.ids))


def ungrouped(n: int) -> Grouping:
    return Grouping("none", np.arange(n, dtype=np.int64))


def union_groups(*keys: Sequence[Hashable | None]) -> IntArray:
    """Group ids such that rows sharing any non-empty key end up in one group.

    ``union_groups(recording_keys, work_keys)``: two takes of BWV 1007 by
    different cellists share a work; a reissue shares an ISRC; both chains are
    followed (union-find), so a group is closed under every key.
    """
    n = len(keys[0]) if keys else 0
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for column in keys:
        first: dict[Hashable, int] = {}
        for i, key in enumerate(column):
            if key is None or key == "":
                continue
            if key in first:
                a, b = find(i), find(first[key])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first[key] = i
    roots = [find(i) for i in range(n)]
    _, ids = np.unique(np.asarray(roots), return_inverse=True)
    return ids.astype(np.int64)


def groups_per_class(y: NDArray[np.int64], groups: IntArray) -> int:
    """The fewest distinct groups that hold a row of one class (0 if a class is absent)."""
    counts = [len(np.unique(groups[y == label])) for label in (0, 1)]
    return min(counts)


def choose_grouping(
    y: NDArray[np.int64], candidates: Sequence[Grouping], *, n_splits: int
) -> Grouping:
    """The first (strictest) grouping that leaves each class in enough groups.

    "Enough" is ``n_splits + 2``: each outer training fold then still holds at
    least two groups of each class for the inner folds.  Falls back to no
    grouping at all when even the loosest one is too coarse.
    """
    need = n_splits + 2
    for grouping in candidates:
        if groups_per_class(y, grouping.ids) >= need:
            return grouping
    return ungrouped(len(y))


def _all_distinct(groups: IntArray) -> bool:
    return len(np.unique(groups)) == len(groups)


def stratified_splits(
    y: NDArray[np.int64],
    groups: IntArray,
    *,
    n_splits: int,
    n_repeats: int,
    seed: int,
) -> list[Split]:
    """Repeated, stratified, grouped K-fold; every repeat shuffles with its own seed."""
    k = max(2, min(n_splits, groups_per_class(y, groups)))
    out: list[Split] = []
    dummy = np.zeros((len(y), 1))
    for repeat in range(n_repeats):
        state = seed + 7919 * repeat
        if _all_distinct(groups):
            folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=state).split(dummy, y)
        else:
            cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=state)
            folds = cv.split(dummy, y, groups)
        for fold, (train, test) in enumerate(folds):
            out.append(Split(repeat, fold, train.astype(np.int64), test.astype(np.int64)))
    return out


def regression_splits(
    n: int, groups: IntArray, *, n_splits: int, n_repeats: int, seed: int
) -> list[Split]:
    """Repeated grouped K-fold for a continuous target (the study's regression)."""
    k = max(2, min(n_splits, len(np.unique(groups))))
    out: list[Split] = []
    dummy = np.zeros((n, 1))
    for repeat in range(n_repeats):
        state = seed + 7919 * repeat
        if _all_distinct(groups):
            folds = KFold(n_splits=k, shuffle=True, random_state=state).split(dummy)
        else:
            folds = GroupKFold(n_splits=k, shuffle=True, random_state=state).split(
                dummy, groups=groups
            )
        for fold, (train, test) in enumerate(folds):
            out.append(Split(repeat, fold, train.astype(np.int64), test.astype(np.int64)))
    return out


def default_repeats(n: int, configured: int | None) -> int:
    """Repeats of the outer K-fold: the configured number, else 5 for small data.

    With 200 ratings or fewer one repeat's five AUCs vary by several points
    from one shuffle to the next; five repeats make the mean and its spread
    stable enough to compare models, and small data trains fast.
    """
    if configured is not None:
        return configured
    return 5 if n <= 200 else 2


def holdout_ratio(splits: Sequence[Split]) -> float:
    """Mean share of test rows over training rows (for the corrected paired t-test)."""
    ratios = [len(s.test) / max(1, len(s.train)) for s in splits]
    return float(np.mean(ratios)) if ratios else math.nan
