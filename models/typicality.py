"""How typical a track is of the catalogue: the density weight of "Bach to rate".

Asking about the tracks a model is least sure of (uncertainty sampling)
tends to pick outliers - a recording unlike any other is uncertain exactly
because nothing near it is rated, and its answer teaches little about the
rest.  Weighting each track's teaching value by how typical it is of the
catalogue (information density, Settles and Craven 2008) asks instead about
uncertain tracks that stand for many others.  How much that saves is
measured with ``bachbot replay`` (``bench/results.md``,
``bench/replay_learning.md``).
"""

from __future__ import annotations

import hashlib
import heapq
import warnings
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

REFERENCE = 500
"""Catalogue tracks the density is measured against (a fixed-seed sample)."""


def standardised(X: Array) -> Array:
    """Columns centred on their median and scaled by their SD; missing values at the centre."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        centre = np.nanmedian(X, axis=0)
        scale = np.nanstd(X, axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    Z = (X - np.where(np.isfinite(centre), centre, 0.0)) / scale
    return np.asarray(np.where(np.isnan(Z), 0.0, Z), dtype=float)


def squared_distances(A: Array, B: Array) -> Array:
    """All squared Euclidean distances between rows of ``A`` and ``B``, in len(A) x len(B)
    memory (|a|^2 + |b|^2 - 2ab; broadcasting a - b would take len(A) x len(B) x columns)."""
    sq = (A**2).sum(axis=1)[:, None] + (B**2).sum(axis=1)[None, :] - 2.0 * A @ B.T
    return np.asarray(np.maximum(sq, 0.0), dtype=float)


def reference_sample(ids: Iterable[str], *, seed: int, count: int = REFERENCE) -> list[str]:
    """A fixed-seed sample of ``ids`` that barely moves as the pool changes.

    Each id gets a hash of (seed, id) and the ``count`` smallest are taken,
    so rating a track or adding a few new ones changes the sample by those
    tracks only - and an unchanged model keeps "Bach to rate" unchanged.
    """

    def rank(track_id: str) -> bytes:
        return hashlib.blake2b(f"{seed}:{track_id}".encode(), digest_size=8).digest()

    # a heap over the stream: the open catalogue (500,000 ids) is never held whole
    return heapq.nsmallest(count, ids, key=lambda t: (rank(t), t))


def typicality(candidates: Array, reference: Array) -> Array:
    """Mean Gaussian-kernel similarity of each candidate to the reference tracks.

    Both are standardised feature rows (missing values at 0); the bandwidth is
    half the median distance, so "near" means nearer than most pairs.  Scaled
    so the most typical candidate has 1.
    """
    if len(candidates) == 0:
        return np.empty(0)
    if len(reference) == 0:
        return np.ones(len(candidates))
    d2 = squared_distances(candidates, reference)
    h2 = float(np.median(d2)) * 0.25
    if not np.isfinite(h2) or h2 <= 0:
        return np.ones(len(candidates))
    density = np.exp(-d2 / (2 * h2)).mean(axis=1)
    top = float(density.max())
    return density / top if top > 0 else np.ones(len(candidates))
