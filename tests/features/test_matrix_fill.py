"""The vectorised matrix equals the plain definition: first provider with a value wins."""

from __future__ import annotations

import random

import numpy as np

from models.matrix import _SOURCES, build_matrix


def _reference(rows: list[dict[str, dict[str, float | None] | None]]) -> np.ndarray:
    out = np.full((len(rows), len(_SOURCES)), np.nan)
    for i, row in enumerate(rows):
        for j, (_, column, providers) in enumerate(_SOURCES):
            for provider in providers:
                value = (row.get(provider) or {}).get(column)
                if value is not None:
                    out[i, j] = value
                    break
    return out


def test_block_fill_matches_the_cell_by_cell_definition() -> None:
    rng = random.Random(0)
    providers = sorted({p for _, _, ps in _SOURCES for p in ps})
    columns = {p: sorted({c for _, c, ps in _SOURCES if p in ps}) for p in providers}
    rows: list[dict[str, dict[str, float | None] | None]] = []
    for _ in range(200):
        row: dict[str, dict[str, float | None] | None] = {}
        for provider in providers:
            roll = rng.random()
            if roll < 0.2:
                continue  # provider never asked
            if roll < 0.3:
                row[provider] = None  # provider has nothing for the track
                continue
            row[provider] = {
                c: (None if rng.random() < 0.2 else rng.uniform(-5, 5))
                for c in columns[provider]
                if rng.random() < 0.9
            }
        rows.append(row)
    np.testing.assert_array_equal(build_matrix(rows), _reference(rows))
    assert build_matrix([]).shape == (0, len(_SOURCES))
