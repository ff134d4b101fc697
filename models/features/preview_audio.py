"""The study's pitch and timbre descriptors for new recordings, measured from Deezer previews.

Spotify no longer gives new apps audio features, audio analysis or preview URLs,
and ReccoBeats mirrors Spotify's old corpus (no pitch or timbre means, and
little released since late 2024).  Deezer finds most recordings by the ISRC
Spotify still reports and serves a 30-second MP3 preview without a key.  For
each track this provider:

1. looks the ISRC up on Deezer; without an ISRC or a hit, searches by
   performer and title and accepts a result only when its duration is within
   :data:`DURATION_SLACK_S` of Spotify's and its BWV number (or, without one,
   its title) agrees;
2. downloads the preview into memory (never to disk; dropped after analysis);
3. describes it (:mod:`models.features.audio`): chroma and 12 MFCC means and
   SDs, tempo, RMS level, spectral shape, onset rate, estimated key and mode,
   plus Deezer's own ``bpm`` and ``gain`` and whether the estimated key agrees
   with the key in the title.

A track with nothing usable is stored as a :class:`Missing` with its reason
(not on Deezer, no preview, not audio, silent, ...) and asked about again after
``BACHBOT_PREVIEW_AUDIO_RECHECK_DAYS``.  Deezer calls per cycle are capped by
``BACHBOT_PREVIEW_AUDIO_CALLS_PER_CYCLE``; tracks left over wait for the next
cycle.  Using it sends ISRCs, and for the fallback search titles and performer
names, to Deezer; ``BACHBOT_PREVIEW_AUDIO_ENABLED=false`` switches it off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from models.features.audio import AUDIO_COLUMNS, AudioUnreadable, describe_audio
from models.features.base import (
    Deferred,
    FeatureValues,
    Missing,
    ProviderResult,
    TrackForFeatures,
)
from models.features.bwv import parse_bwv
from models.features.context import ProviderContext, ProviderSettings, Skipped
from models.features.deezer import CallBudget, CallBudgetSpent, DeezerClient, DeezerTrack
from models.features.titles import fold, parse_title

if TYPE_CHECKING:
    import httpx

EXTRA_COLUMNS = ("deezer_bpm", "deezer_gain", "title_key_agrees")
PREVIEW_COLUMNS: tuple[str, ...] = AUDIO_COLUMNS + EXTRA_COLUMNS
DURATION_SLACK_S = 3
"""Search hits further than this from Spotify's duration are another take or edit."""


def search_query(track: TrackForFeatures, composer_ids: Sequence[str]) -> str | None:
    """Deezer's advanced search for the track's first performer and its title (None: no
    performer to search by)."""
    performers = [a for a in track.artists if a.get("id") not in set(composer_ids)]
    if not performers or not track.name:
        return None
    title = track.name.replace('"', " ")
    return f'artist:"{performers[0].get("name", "")}" track:"{title}"'


def agrees(track: TrackForFeatures, candidate: DeezerTrack) -> bool:
    """A search hit is the same recording: duration within the slack, and the same BWV
    number (or, when neither title has one, the same folded title)."""
    if track.duration_ms is None or abs(candidate.duration_s - track.duration_ms / 1000) > (
        DURATION_SLACK_S
    ):
        return False
    mine = track.bwv or (ref.bwv if (ref := parse_bwv(track.name)) else None)
    theirs = ref.bwv if (ref := parse_bwv(candidate.title)) else None
    if mine and theirs:
        return mine.split("/")[0].lower() == theirs.lower()
    return fold(track.name) == fold(candidate.title)


def title_key_agrees(track: TrackForFeatures, values: FeatureValues) -> float | None:
    """1 when the estimated key is the key in the title, 0 when not, None without one."""
    info = parse_title(track.name)
    if info.key is None or info.mode is None:
        return None
    same = values.get("key") == float(info.key) and values.get("mode") == (
        1.0 if info.mode == "major" else 0.0
    )
    return 1.0 if same else 0.0


class PreviewAudioProvider:
    """ISRC (or checked search) -> Deezer preview -> descriptors, one track at a time."""

    name = "preview_audio"
    title = "Audio analysis of Deezer previews"
    status_note = "sends ISRCs to Deezer, and titles and performers when it has to search"
    schema_version = 1
    columns: ClassVar[tuple[str, ...]] = PREVIEW_COLUMNS
    block = "preview"
    priority = 0
    order = 3
    """Last: it is the slowest (a download and an analysis per track), so the quick
    providers' rows are stored first in every cycle."""
    chunk = 10
    """Each chunk is committed: a rate limit mid-chunk loses at most ten tracks' work."""
    per_cycle = 2000
    """At most this many tracks are looked at; the call budget usually ends a cycle first."""

    def __init__(self, deezer: DeezerClient, *, composer_ids: Sequence[str] = ()) -> None:
        self._deezer = deezer
        self._composers = tuple(composer_ids)

    @classmethod
    def recheck_misses_days(cls, settings: ProviderSettings) -> float | None:
        return settings.preview_audio_recheck_days

    @classmethod
    def enabled(cls, settings: ProviderSettings) -> bool:
        return settings.preview_audio_enabled

    @classmethod
    def from_context(cls, context: ProviderContext) -> PreviewAudioProvider | Skipped:
        settings = context.settings
        if not cls.enabled(settings):
            return Skipped("disabled (BACHBOT_PREVIEW_AUDIO_ENABLED=false)")
        if context.http_client is None:
            return Skipped("no HTTP client to reach Deezer with")
        from models.features.audio import prepare_numba_cache

        prepare_numba_cache(settings.data_dir / "cache" / "numba")
        return cls(
            deezer_client(context.http_client, settings),
            composer_ids=settings.composer_artist_ids,
        )

    def fetch(self, tracks: Sequence[TrackForFeatures]) -> ProviderResult:
        result: ProviderResult = {}
        for track in tracks:
            try:
                result[track.id] = self.describe(track)
            except CallBudgetSpent:
                left = Deferred("this cycle's Deezer call budget is spent")
                result |= {t.id: left for t in tracks if t.id not in result}
                break
        return result

    def describe(self, track: TrackForFeatures) -> FeatureValues | Missing:
        """One track's values, or why it has none (raises provider errors and CallBudgetSpent)."""
        found = self.find(track)
        if isinstance(found, Missing):
            return found
        if not found.preview:
            return Missing(f"Deezer has no preview for it (Deezer track {found.id})")
        data = self._deezer.preview(found.preview)
        if data is None:
            return Missing(f"Deezer's preview for track {found.id} is gone or too large")
        try:
            values: FeatureValues = dict(describe_audio(data))
        except AudioUnreadable as err:
            return Missing(f"Deezer's preview for track {found.id}: {err.reason}")
        values["deezer_bpm"] = found.bpm
        values["deezer_gain"] = found.gain
        values["title_key_agrees"] = title_key_agrees(track, values)
        return values

    def find(self, track: TrackForFeatures) -> DeezerTrack | Missing:
        """The recording on Deezer: by ISRC, else by a search whose hit must agree."""
        if track.isrc:
            hit = self._deezer.track_by_isrc(track.isrc)
            if hit is not None:
                return hit
        query = search_query(track, self._composers)
        if query is None:
            return Missing(_not_found(track, searched=False))
        for candidate in self._deezer.search(query):
            if agrees(track, candidate):  # a search hit is short: no bpm or gain
                return self._deezer.track(candidate.id) or candidate
        return Missing(_not_found(track, searched=True))


def _not_found(track: TrackForFeatures, *, searched: bool) -> str:
    by = f"ISRC {track.isrc}" if track.isrc else "no ISRC"
    how = "no search hit with the same duration and BWV" if searched else "nothing to search by"
    return f"not on Deezer ({by}; {how})"


def deezer_client(http: httpx.Client, settings: ProviderSettings) -> DeezerClient:
    """The Deezer client for one cycle (or one ``bachbot features`` command), with its budget."""
    return DeezerClient(
        http,
        base_url=settings.deezer_base,
        budget=CallBudget(settings.preview_audio_calls_per_cycle),
        min_interval_s=1.0 / settings.deezer_calls_per_second,
    )
