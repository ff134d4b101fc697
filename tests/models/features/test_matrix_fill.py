"""The vectorised matrix equals the plain definition: first provider with a value wins."""

from __future__ import annotations

import random

import numpy as np

from models.matrix import ColumnSource, build_matrix, feature_schema, matrix_layout


def _reference(
    rows: list[dict[str, dict[str, float | None] | None]], sources: tuple[ColumnSource, ...]
) -> np.ndarray:
    out = np.full((len(rows), len(sources)), np.nan)
    for i, row in enumerate(rows):
        for j, source in enumerate(sources):
            for provider in source.providers:
                value = (row.get(provider) or {}).get(source.column)
                if value is not None:
                    out[i, j] = value
                    break
    return out


def test_block_fill_matches_the_cell_by_cell_definition() -> None:
    sources = matrix_layout().sources
    rng = random.Random(0)
    providers = sorted({p for s in sources for p in s.providers})
    columns = {p: sorted({s.column for s in sources if p in s.providers}) for p in providers}
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
            kept = [c for c in columns[provider] if rng.random() < 0.9]
            if rng.random() < 0.3:
                rng.shuffle(kept)  # rows are read in groups of one key order: mix them
            values: dict[str, float | str | None] = {
                c: (None if rng.random() < 0.2 else rng.uniform(-5, 5)) for c in kept
            }
            if rng.random() < 0.2:
                values["not_a_column"] = "a value the matrix never reads"
            row[provider] = values  # type: ignore[assignment]
        rows.append(row)
    np.testing.assert_array_equal(build_matrix(rows), _reference(rows, sources))
    assert build_matrix([]).shape == (0, len(sources))


def test_schema_version_is_the_one_saved_models_carry() -> None:
    # Models saved before the registry carry this version; a change here means
    # every saved model is refused and retrained.  Change it only on purpose.
    # Issue 23 changed it on purpose: the preview block (60 columns) joined the matrix.
    assert feature_schema().version == "1-6f8cfede196d"
    assert len(feature_schema().columns) == 199
