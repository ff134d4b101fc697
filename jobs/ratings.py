"""Ratings the user gives on purpose or by what they do, outside Liked Songs.

- ``bachbot rate <track> <1-10>``: one explicit rating (outranks implicit ones).
- ``bachbot import-ratings FILE.csv``: many, all or nothing; every bad line is
  reported as ``line N: problem`` and nothing is written.
- :func:`record_removals`: the publish job calls it for tracks the user removed
  from "Predicted favourites" (a low rating, ``removal_rating``).
- :func:`record_exposures`: the weak negative for a published track heard
  often and never rated (``exposure_negative``, off by default).

Parsing is pure and lives in :mod:`jobs.rating_input`; the functions here
append rating events and fetch unknown tracks one by one (``GET /tracks/{id}``;
Spotify removed the batch endpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from jobs.rating_input import ImportRejected, RatingLine, parse_rating, parse_track_ref
from jobs.sync_context import store_track
from models.bach import BachRules
from service.errors import ConfigError
from service.settings import Settings
from service.spotify.errors import SpotifyNotFound
from service.spotify.types import TrackInfo
from service.store.event_keys import exposure_key, newest_publications_holding, removal_key
from service.store.listens import play_counts, published_track_ids
from service.store.ratings import (
    EXPLICIT_SOURCES,
    add_inferred_rating,
    add_rating,
    load_events,
    rated_track_ids,
)
from service.store.tables import Rating, Track, utcnow
from service.store.tracks import known_track_ids


# --- pure -----------------------------------------------------------------------------
def exposure_negatives(
    *,
    plays: Mapping[str, int],
    published: Iterable[str],
    rated: Iterable[str],
    min_plays: int,
) -> list[str]:
    """Published tracks heard at least ``min_plays`` times that never got any rating."""
    skip = set(rated)
    return sorted(t for t in set(published) if plays.get(t, 0) >= min_plays and t not in skip)


# --- I/O --------------------------------------------------------------------------------
class TrackSource(Protocol):
    """Where an unknown track is fetched from: the gateway, or a stand-in that builds the
    gateway only when a track really is unknown (so rating a known track needs no
    Spotify credentials)."""

    def track(self, track_id: str) -> TrackInfo: ...


class UnknownTrack(ConfigError):
    """Spotify has no track with this id."""

    def __init__(self, track_id: str) -> None:
        super().__init__(
            f"Spotify has no track {track_id}; check the id or link (copy it with Share > "
            "Copy Song Link)"
        )
        self.track_id = track_id


@dataclass(frozen=True)
class RateResult:
    track_id: str
    name: str
    is_bach: bool
    fetched: bool
    value: int


def ensure_track(
    *,
    session: Session,
    spotify: TrackSource,
    settings: Settings,
    track_id: str,
    now: datetime | None = None,
) -> tuple[Track, bool]:
    """The stored track, fetched from Spotify first when unknown: ``(track, fetched)``.

    A track rated on purpose is stored even if it does not count as Bach, so
    the rating is kept; it only takes part where non-Bach tracks do.
    """
    row = session.get(Track, track_id)
    if row is not None:
        return row, False
    try:
        info = spotify.track(track_id)
    except SpotifyNotFound as err:
        raise UnknownTrack(track_id) from err
    rules = BachRules.of(settings.composer_artist_ids, settings.title_patterns)
    store_track(session=session, rules=rules, info=info, source="rating", force=True, now=now)
    return session.get_one(Track, track_id), True


def rate_track(
    *,
    session: Session,
    spotify: TrackSource,
    settings: Settings,
    ref: str,
    value: str | int,
    now: datetime | None = None,
) -> RateResult:
    """``bachbot rate``: one explicit rating for a track id, URI or link."""
    try:
        track_id = parse_track_ref(ref)
        rating = parse_rating(str(value))
    except ValueError as err:
        raise ConfigError(f"cannot rate: {err}") from err
    track, fetched = ensure_track(
        session=session, spotify=spotify, settings=settings, track_id=track_id, now=now
    )
    add_rating(
        session=session,
        track_id=track_id,
        value=rating,
        source="explicit",
        created_at=now or utcnow(),
    )
    return RateResult(track_id, track.name, track.is_bach, fetched, rating)


@dataclass
class ImportReport:
    lines: int = 0
    rated: int = 0
    unchanged: int = 0
    fetched: int = 0
    not_bach: list[str] = field(default_factory=list)


Progress = Callable[[int, int, str], None]
"""Called as ``progress(done, total, track_id)`` after each track fetched."""


def import_ratings(
    *,
    session: Session,
    spotify: TrackSource,
    settings: Settings,
    lines: Sequence[RatingLine],
    source: str = "the file",
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Store parsed lines as "import" ratings; the caller's transaction makes it all or nothing.

    A line whose track already has that explicit rating is left alone, so
    importing the same file twice adds nothing.
    """
    report = ImportReport(lines=len(lines))
    known = known_track_ids(session=session, ids=[ln.track_id for ln in lines])
    unknown = [ln for ln in lines if ln.track_id not in known]
    if len(unknown) > settings.calls_per_cycle:
        raise ConfigError(
            f"{source}: {len(unknown)} tracks are new to bachbot and would take {len(unknown)} "
            f"Spotify calls, more than the budget of {settings.calls_per_cycle} "
            "(BACHBOT_CALLS_PER_CYCLE); split the file or raise the budget, then import again"
        )
    errors: list[str] = []
    for done, entry in enumerate(unknown, start=1):
        try:
            ensure_track(
                session=session,
                spotify=spotify,
                settings=settings,
                track_id=entry.track_id,
                now=now,
            )
            report.fetched += 1
        except UnknownTrack:
            errors.append(f"line {entry.line}: Spotify has no track {entry.track_id}")
        if progress is not None:
            progress(done, len(unknown), entry.track_id)
    if errors:
        raise ImportRejected(source, errors)
    standing = _explicit_values(session)
    for entry in lines:
        if standing.get(entry.track_id) == entry.value:
            report.unchanged += 1
            continue
        add_rating(
            session=session,
            track_id=entry.track_id,
            value=entry.value,
            source="import",
            note=f"{source} line {entry.line}",
            created_at=now or utcnow(),
        )
        report.rated += 1
        track = session.get_one(Track, entry.track_id)
        if not track.is_bach:
            report.not_bach.append(entry.track_id)
    return report


def _explicit_values(session: Session) -> dict[str, int]:
    """The latest explicit or imported rating of each track."""
    latest: dict[str, int] = {}
    for event in sorted(load_events(session=session), key=lambda e: e.id):
        if event.source in EXPLICIT_SOURCES and event.value is not None:
            latest[event.track_id] = event.value
    return latest


def record_removals(
    *,
    session: Session,
    track_ids: Iterable[str],
    settings: Settings,
    now: datetime | None = None,
) -> list[Rating]:
    """The user removed these from "Predicted favourites": a low rating each (for publish).

    Tracks bachbot does not know are skipped (a rating needs its track row).
    Each removal is keyed by the publication the track was taken out of (the
    newest that held it), so a publish run that reads the same removal again
    after a crash records nothing new; returns the events actually added.
    """
    track_ids = list(track_ids)
    known = known_track_ids(session=session, ids=track_ids)
    wanted = [t for t in dict.fromkeys(track_ids) if t in known]
    taken_from = newest_publications_holding(session=session, track_ids=wanted)
    added = (
        add_inferred_rating(
            session=session,
            track_id=track_id,
            value=settings.removal_rating,
            source="removal",
            event_key=removal_key(track_id, taken_from.get(track_id)),
            note="removed from the bot playlist",
            created_at=now or utcnow(),
        )
        for track_id in wanted
    )
    return [rating for rating in added if rating is not None]


def record_exposures(
    *, session: Session, settings: Settings, now: datetime | None = None
) -> list[Rating]:
    """Weak negatives for published tracks heard often and never rated (each once)."""
    candidates = exposure_negatives(
        plays=play_counts(session=session, source="recent"),
        published=published_track_ids(session=session),
        rated=rated_track_ids(session=session),
        min_plays=settings.exposure_plays,
    )
    known = known_track_ids(session=session, ids=candidates)
    added = (
        add_inferred_rating(
            session=session,
            track_id=track_id,
            value=settings.exposure_rating,
            source="exposure",
            event_key=exposure_key(track_id),
            note=f"heard {settings.exposure_plays}+ times, never liked",
            created_at=now or utcnow(),
        )
        for track_id in candidates
        if track_id in known
    )
    return [rating for rating in added if rating is not None]
