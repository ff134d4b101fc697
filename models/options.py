"""How hard the evaluation searches and how it splits: one frozen value passed down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Choice = Literal["mlp", "auto"]


@dataclass(frozen=True)
class ModelOptions:
    """The knobs of nested cross-validation, training and the promotion gate.

    ``outer_repeats=None`` means "5 for 200 rows or fewer, else 2" (see
    :func:`models.folds.default_repeats`).  ``fast`` is a two-point grid with
    smaller ensembles for tests and quick looks; the default grid is sized so
    that 1,000 ratings train within a minute on two cores (``bench/``).
    """

    seed: int = 0
    outer_splits: int = 5
    outer_repeats: int | None = None
    inner_splits: int = 3
    max_iter: int = 200
    fast: bool = False
    n_jobs: int = 1
    choose: Choice = "mlp"
    """``mlp``: the study's family (its reducer and size chosen inside the folds);
    ``auto``: the best of the MLP family and the baselines, chosen inside the folds."""
    augment: bool = False
    """Also evaluate the study's "+1/4 jittered copies" experiment (training folds only)."""
    playlist_size: int = 50
    """k of precision@k and NDCG@k (capped at a fifth of a test fold)."""
    gate_margin_se: float = 2.0
    """The gate calls two models tied unless they differ by more than this many SEs."""
    study: bool = True
    """Also report the study's regression R2 on explicit ratings, when there are enough."""
    report: bool = True
    """Also evaluate what only the report reads: the reducer sub-families and, unless
    ``choose`` is ``auto``, the baselines.  The decision (the chosen family's nested score,
    its calibration, the final fit) is the same either way: the inner search scores the
    union of configurations once, with seeds that do not depend on the families."""

    @property
    def effective_max_iter(self) -> int:
        return min(self.max_iter, 150) if self.fast else self.max_iter
