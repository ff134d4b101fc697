"""Tracks and albums as Spotify describes them, written into the catalogue tables.

The caller decides whether a track is Bach and what its title says (see
:mod:`models.bach`) and hands over plain values of the store's own
(:class:`TrackFacts`, :class:`AlbumFacts`), so the store needs no gateway
code; :mod:`jobs.spotify_to_store` makes them.  These functions only keep the
rows in step with Spotify, never overwriting a known value with a missing one
(a simplified track from an album listing has no ISRC, a full one does).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.tables import Album, Track, utcnow


@dataclass(frozen=True)
class Credit:
    """One artist credited on a track (performer, ensemble or the composer himself)."""

    id: str | None
    name: str


@dataclass(frozen=True)
class AlbumFacts:
    """What Spotify says about one album; None where it said nothing."""

    id: str
    name: str
    album_type: str | None
    release_date: str | None
    total_tracks: int | None


@dataclass(frozen=True)
class TrackFacts:
    """What Spotify says about one track; None where it said nothing (it is not stored)."""

    id: str
    name: str
    artists: tuple[Credit, ...]
    album: AlbumFacts | None
    duration_ms: int | None
    isrc: str | None
    track_number: int | None


def _set(row: Any, field: str, value: Any) -> None:
    """Assign only on a real change, so ``updated_at`` moves only when something did."""
    if value is not None and getattr(row, field) != value:
        setattr(row, field, value)


def upsert_track(
    *,
    session: Session,
    track: TrackFacts,
    is_bach: bool,
    bwv: str | None,
    meta: dict[str, Any],
    source: str,
    now: datetime | None = None,
    known: dict[str, Track] | None = None,
) -> tuple[Track, bool]:
    """Insert or refresh one track; returns ``(row, created)``.

    ``source`` is kept from the first sighting: it says how bachbot found it.
    With ``known`` (:func:`stored_tracks` of a page of ids, updated here) the row
    is looked up there rather than asked for, and the caller flushes once for the
    page: 500 new tracks are then one query and one batched INSERT, not 500 of each.
    """
    row = session.get(Track, track.id) if known is None else known.get(track.id)
    created = row is None
    if row is None:
        row = Track(id=track.id, source=source, first_seen_at=now or utcnow(), meta={})
        session.add(row)
        if known is not None:
            known[track.id] = row
    _set(row, "name", track.name)
    _set(row, "artists", [{"id": a.id, "name": a.name} for a in track.artists])
    album = track.album
    if album is not None:
        _set(row, "album_id", album.id)
        _set(row, "album_name", album.name)
        _set(row, "album_type", album.album_type)
        _set(row, "release_date", album.release_date)
    _set(row, "duration_ms", track.duration_ms)
    _set(row, "isrc", track.isrc)
    _set(row, "track_number", track.track_number)
    if row.is_bach != is_bach:
        row.is_bach = is_bach
    if row.bwv != bwv:
        row.bwv = bwv
    if row.meta != meta:
        row.meta = meta
    if known is None:
        session.flush()
    return row, created


def stored_tracks(*, session: Session, ids: Iterable[str]) -> dict[str, Track]:
    """The stored rows of ``ids`` by id (for :func:`upsert_track`'s ``known``)."""
    wanted = list(set(ids))
    found: dict[str, Track] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update((t.id, t) for t in session.scalars(select(Track).where(Track.id.in_(chunk))))
    return found


def upsert_album(
    *, session: Session, album: AlbumFacts, found_via: str, now: datetime | None = None
) -> tuple[Album, bool]:
    """Insert or refresh one album; ``found_via`` and ``tracks_read_at`` are kept."""
    row = session.get(Album, album.id)
    created = row is None
    if row is None:
        row = Album(
            id=album.id, name=album.name, found_via=found_via, first_seen_at=now or utcnow()
        )
        session.add(row)
    _set(row, "name", album.name)
    _set(row, "album_type", album.album_type)
    _set(row, "release_date", album.release_date)
    _set(row, "total_tracks", album.total_tracks)
    session.flush()
    return row, created


def known_track_ids(*, session: Session, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are already stored."""
    wanted = list(set(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(session.scalars(select(Track.id).where(Track.id.in_(chunk))))
    return found


def unread_albums(*, session: Session, limit: int | None = None) -> list[Album]:
    """Albums whose tracks have not been read yet, the most recent release first.

    New recordings are what bachbot is for, so a backlog of thousands of found
    albums is read newest first (``YYYY-MM-DD`` text sorts by date).
    """
    query = (
        select(Album)
        .where(Album.tracks_read_at.is_(None))
        .order_by(Album.release_date.desc().nulls_last(), Album.first_seen_at, Album.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
