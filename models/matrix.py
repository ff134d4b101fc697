"""The feature matrix: one row per track, a fixed column order, NaN where nothing is known.

Columns come in provider blocks, each named ``<block>.<column>``:

* ``audio.*``: Spotify-style descriptors.  ``spotify_audio`` and ``reccobeats``
  overlap (energy, tempo, valence, ...), so they share one block: a value from
  ``spotify_audio`` wins, else ReccoBeats' value is used.  Duration, time
  signature and the 24 segment means only ever come from ``spotify_audio``.
* ``metadata.*``: title, catalogue and album facts (always present).

A model trained where audio exists and one trained where it does not use the
same columns; the missing block is NaN and the pipeline imputes it (with
missing-indicators).  The schema version is derived from the column list, so
any change to a provider's columns changes it and a saved model trained on
other columns is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.features.metadata import METADATA_COLUMNS, MetadataProvider
from models.features.reccobeats import ReccoBeatsProvider
from models.features.spotify_audio import SpotifyAudioProvider

ProviderRow = Mapping[str, Mapping[str, float | None] | None]
"""One track: provider name -> that provider's values (None: provider has nothing)."""


@dataclass(frozen=True, slots=True)
class FeatureSchema:
    """The column order a model was trained on; compared on load."""

    version: str
    columns: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "columns": list(self.columns)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSchema:
        return cls(version=str(data["version"]), columns=tuple(data["columns"]))


# (block, column, providers in order of preference)
_SOURCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    *(
        (
            "audio",
            column,
            (SpotifyAudioProvider.name, ReccoBeatsProvider.name)
            if column in ReccoBeatsProvider.columns
            else (SpotifyAudioProvider.name,),
        )
        for column in SpotifyAudioProvider.columns
    ),
    *(("metadata", column, (MetadataProvider.name,)) for column in METADATA_COLUMNS),
)

PROVIDER_VERSIONS: dict[str, int] = {
    SpotifyAudioProvider.name: SpotifyAudioProvider.schema_version,
    ReccoBeatsProvider.name: ReccoBeatsProvider.schema_version,
    MetadataProvider.name: MetadataProvider.schema_version,
}
"""The provider schema versions the matrix reads; stored rows at other versions are ignored."""


def _schema() -> FeatureSchema:
    columns = tuple(f"{block}.{column}" for block, column, _ in _SOURCES)
    digest = hashlib.sha256("\n".join(columns).encode("utf-8")).hexdigest()[:12]
    return FeatureSchema(version=f"1-{digest}", columns=columns)


FEATURE_SCHEMA: FeatureSchema = _schema()


def _fill_plan() -> list[tuple[str, tuple[str, ...], npt.NDArray[np.intp]]]:
    """(provider, its source columns, their matrix columns), highest priority first.

    A column several providers can fill takes the first provider's value, then
    the next one's where that is missing; so the plan lists every column's first
    provider before any column's second, and each step only fills what is NaN.
    """
    depth = max(len(providers) for _, _, providers in _SOURCES)
    plan: list[tuple[str, tuple[str, ...], npt.NDArray[np.intp]]] = []
    for level in range(depth):
        by_provider: dict[str, list[tuple[str, int]]] = {}
        for j, (_, column, providers) in enumerate(_SOURCES):
            if level < len(providers):
                by_provider.setdefault(providers[level], []).append((column, j))
        for provider, pairs in by_provider.items():
            plan.append((provider, tuple(c for c, _ in pairs), np.array([j for _, j in pairs])))
    return plan


_PLAN = _fill_plan()
_EMPTY: dict[str, float | None] = {}


def build_matrix(rows: Sequence[ProviderRow]) -> npt.NDArray[np.float64]:
    """``len(rows) x len(FEATURE_SCHEMA.columns)`` floats, NaN where no provider knows.

    Built one provider block at a time (numpy turns ``None`` into NaN), which is
    what keeps a full rescore of 50,000 tracks cheap.
    """
    matrix = np.full((len(rows), len(_SOURCES)), np.nan, dtype=np.float64)
    if not rows:
        return matrix
    for provider, columns, targets in _PLAN:
        block = np.array(
            [[(row.get(provider) or _EMPTY).get(c) for c in columns] for row in rows],
            dtype=np.float64,
        )
        current = matrix[:, targets]
        matrix[:, targets] = np.where(np.isnan(current), block, current)
    return matrix
