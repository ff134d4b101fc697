"""The seed's descriptors from Spotify's audio-features and audio-analysis endpoints.

Spotify stopped serving both endpoints to apps created after 27 Nov 2024 (they
answer 403); apps that had quota before still get them.  The provider calls the
gateway through the small :class:`~models.features.context.AudioSource`
protocol and is told which exception types mean "refused to this app" (the
gateway's ``SpotifyRestricted``): on the first one it raises a ``lasting``
:class:`ProviderUnavailable` with ``status=403``, so the job persists the fact
and the class is not built again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from models.features.base import FeatureValues, ProviderResult, TrackForFeatures
from models.features.context import AudioSource, ProviderContext, ProviderSettings, Skipped
from models.features.errors import ProviderUnavailable

AUDIO_FEATURE_COLUMNS: tuple[str, ...] = (
    "duration_ms", "energy", "tempo", "time_signature", "loudness", "valence",
    "danceability", "key", "mode", "acousticness", "instrumentalness", "liveness",
    "speechiness",
)  # fmt: skip
PITCH_COLUMNS: tuple[str, ...] = tuple(f"pitch_{i}" for i in range(12))
TIMBRE_COLUMNS: tuple[str, ...] = tuple(f"timbre_{i}" for i in range(12))
BATCH = 100
"""Spotify's maximum ids per audio-features call."""


def segment_means(
    segments: Sequence[Mapping[str, Any]],
) -> tuple[list[float], list[float]] | None:
    """Per-track means of the 12 ``pitches`` and the 12 ``timbre`` values, as the seed had them.

    The plain (unweighted) mean over segments of each of the 24 values; None when
    the analysis has no usable segment.
    """
    usable = [
        s
        for s in segments
        if len(s.get("pitches") or ()) == 12 and len(s.get("timbre") or ()) == 12
    ]
    if not usable:
        return None
    count = len(usable)
    pitches = [sum(float(s["pitches"][i]) for s in usable) / count for i in range(12)]
    timbre = [sum(float(s["timbre"][i]) for s in usable) / count for i in range(12)]
    return pitches, timbre


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def describe(
    features: Mapping[str, Any] | None, analysis: Mapping[str, Any] | None
) -> FeatureValues | None:
    """One track's row from its audio-features object and audio-analysis (pure)."""
    if features is None and analysis is None:
        return None
    values: FeatureValues = {
        column: _number((features or {}).get(column)) for column in AUDIO_FEATURE_COLUMNS
    }
    means = segment_means((analysis or {}).get("segments") or ())
    for i in range(12):
        values[PITCH_COLUMNS[i]] = means[0][i] if means else None
        values[TIMBRE_COLUMNS[i]] = means[1][i] if means else None
    return values


class SpotifyAudioProvider:
    """Audio-features (batches of 100) plus one audio-analysis call per track."""

    name = "spotify_audio"
    title = "Spotify's audio analysis"
    status_note = None
    schema_version = 1
    columns: ClassVar[tuple[str, ...]] = AUDIO_FEATURE_COLUMNS + PITCH_COLUMNS + TIMBRE_COLUMNS
    block = "audio"
    priority = 0
    """Spotify's own numbers win over ReccoBeats' copies of them."""
    order = 0
    chunk = BATCH
    per_cycle = 500
    """Audio-analysis costs one call per track: 500 keep a cycle's Spotify calls modest."""

    def __init__(
        self, source: AudioSource, *, restricted: tuple[type[Exception], ...] = ()
    ) -> None:
        self._source = source
        self._restricted = restricted

    @classmethod
    def recheck_misses_days(cls, settings: ProviderSettings) -> float | None:
        return None

    @classmethod
    def enabled(cls, settings: ProviderSettings) -> bool:
        return True

    @classmethod
    def from_context(cls, context: ProviderContext) -> SpotifyAudioProvider | Skipped:
        if context.switched_off_for_good:
            return Skipped("unavailable for this app (Spotify answered 403)")
        if context.audio_source is None:
            return Skipped("no Spotify connection")
        return cls(context.audio_source, restricted=context.audio_refused)

    def fetch(self, tracks: Sequence[TrackForFeatures]) -> ProviderResult:
        ids = [t.id for t in tracks]
        try:
            features: dict[str, Mapping[str, Any] | None] = {}
            for start in range(0, len(ids), BATCH):
                features.update(self._source.audio_features(ids[start : start + BATCH]))
            result: ProviderResult = {}
            for track_id in ids:
                analysis = self._source.audio_analysis(track_id)
                result[track_id] = describe(features.get(track_id), analysis)
        except self._restricted as err:
            raise ProviderUnavailable(
                "Spotify refused audio-features/audio-analysis to this app (403): apps created "
                "after Nov 2024 do not get them; bachbot carries on with ReccoBeats and title "
                "metadata and will not ask Spotify for audio again",
                provider=self.name,
                status=403,
                lasting=True,
            ) from err
        return result
