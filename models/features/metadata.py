"""Features every app can have: what the title, the catalogue and the album say.

Pure and always available (no network), so a model can be trained even when no
audio descriptors exist.  Performers are encoded by feature hashing of the
non-composer artist ids into :data:`PERFORMER_BUCKETS` buckets: a user's
favourite pianist moves the same bucket on every track without a learned
vocabulary that would change with each sync (collisions are the price).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence

from models.features.base import FeatureValues, ProviderResult, TrackForFeatures
from models.features.bwv import parse_bwv
from models.features.catalogue import GROUPS, bwv_number, group_of, lookup
from models.features.context import ProviderContext, ProviderSettings, Skipped
from models.features.keys import mode_number
from models.features.titles import FORMS, INSTRUMENTS, parse_title

PERFORMER_BUCKETS = 16
ALBUM_TYPES: tuple[str, ...] = ("album", "single", "compilation")
COMPOSER_NAMES = frozenset({"johann sebastian bach", "j. s. bach", "j.s. bach", "bach"})

METADATA_COLUMNS: tuple[str, ...] = (
    "duration_s",
    "bwv_number",
    "key",
    "mode",
    "movement",
    "track_number",
    "release_year",
    *(f"group.{g}" for g in GROUPS),
    *(f"form.{f}" for f in FORMS),
    *(f"instr.{i}" for i in INSTRUMENTS),
    *(f"performer.{b:02d}" for b in range(PERFORMER_BUCKETS)),
    *(f"album_type.{a}" for a in ALBUM_TYPES),
)


def performer_bucket(artist_id: str) -> int:
    """A stable bucket for an artist id (crc32, so it is the same in every process)."""
    return zlib.crc32(artist_id.encode("utf-8")) % PERFORMER_BUCKETS


def release_year(release_date: str | None) -> int | None:
    """``"1982-05-01"``, ``"1982"`` -> 1982."""
    match = re.match(r"^(\d{4})", release_date or "")
    return int(match.group(1)) if match else None


def _one_hot(prefix: str, vocabulary: Iterable[str], chosen: Iterable[str]) -> FeatureValues:
    picked = set(chosen)
    return {f"{prefix}.{word}": 1.0 if word in picked else 0.0 for word in vocabulary}


def describe_track(track: TrackForFeatures, *, composer_ids: frozenset[str]) -> FeatureValues:
    """The metadata row of one track (pure)."""
    info = parse_title(track.name)
    ref = parse_bwv(track.name) or (parse_bwv(track.album_name) if track.album_name else None)
    bwv = track.bwv or info.bwv or (ref.bwv if ref else None)
    work = lookup(bwv) if bwv else None
    group = group_of(bwv) if bwv else None
    key, mode = info.key, info.mode
    if key is None and track.album_name:
        album_info = parse_title(track.album_name)
        key, mode = album_info.key, album_info.mode
    if key is None and work is not None:
        key, mode = work.key, work.mode
    instruments = list(info.instruments)
    if not instruments and track.album_name:
        instruments = list(parse_title(track.album_name).instruments)
    if not instruments and work is not None:
        instruments = list(parse_title(work.scoring).instruments)
    performers = [
        str(artist.get("id"))
        for artist in track.artists
        if artist.get("id")
        and artist.get("id") not in composer_ids
        and str(artist.get("name", "")).strip().lower() not in COMPOSER_NAMES
    ]
    buckets = [0.0] * PERFORMER_BUCKETS
    for artist_id in performers:
        buckets[performer_bucket(artist_id)] += 1.0
    year = release_year(track.release_date)
    values: FeatureValues = {
        "duration_s": track.duration_ms / 1000.0 if track.duration_ms is not None else None,
        "bwv_number": float(n) if bwv and (n := bwv_number(bwv)) is not None else None,
        "key": float(key) if key is not None else None,
        "mode": float(m) if (m := mode_number(mode)) is not None else None,
        "movement": float(info.movement_number) if info.movement_number is not None else None,
        "track_number": float(track.track_number) if track.track_number is not None else None,
        "release_year": float(year) if year is not None else None,
    }
    values |= _one_hot("group", GROUPS, [group] if group else [])
    values |= _one_hot("form", FORMS, [info.movement_form] if info.movement_form else [])
    values |= _one_hot("instr", INSTRUMENTS, instruments)
    values |= {f"performer.{b:02d}": buckets[b] for b in range(PERFORMER_BUCKETS)}
    values |= _one_hot("album_type", ALBUM_TYPES, [track.album_type or ""])
    return values


class MetadataProvider:
    """Title, catalogue and album facts; never unavailable, never None."""

    name = "metadata"
    title = "Titles and the BWV catalogue"
    status_note = None
    schema_version = 1
    columns = METADATA_COLUMNS
    block = "metadata"
    priority = 0
    order = 2
    chunk = 500
    per_cycle = None
    """Local and cheap: every missing track in one run."""

    def __init__(self, *, composer_ids: Iterable[str] = ()) -> None:
        self._composer_ids = frozenset(composer_ids)

    @classmethod
    def recheck_misses_days(cls, settings: ProviderSettings) -> float | None:
        return None

    @classmethod
    def enabled(cls, settings: ProviderSettings) -> bool:
        return True

    @classmethod
    def from_context(cls, context: ProviderContext) -> MetadataProvider | Skipped:
        return cls(composer_ids=context.settings.composer_artist_ids)

    def fetch(self, tracks: Sequence[TrackForFeatures]) -> ProviderResult:
        return {t.id: describe_track(t, composer_ids=self._composer_ids) for t in tracks}
