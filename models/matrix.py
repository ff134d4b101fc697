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


def _value(row: ProviderRow, column: str, providers: tuple[str, ...]) -> float:
    for provider in providers:
        values = row.get(provider)
        if values is None:
            continue
        value = values.get(column)
        if value is not None:
            return float(value)
    return float("nan")


def build_matrix(rows: Sequence[ProviderRow]) -> npt.NDArray[np.float64]:
    """``len(rows) x len(FEATURE_SCHEMA.columns)`` floats, NaN where no provider knows."""
    matrix = np.full((len(rows), len(_SOURCES)), np.nan, dtype=np.float64)
    for i, row in enumerate(rows):
        matrix[i] = [_value(row, column, providers) for _, column, providers in _SOURCES]
    return matrix
