"""Tracks and albums as the gateway describes them, written into the catalogue tables.

The caller decides whether a track is Bach and what its title says (see
:mod:`models.bach`); these functions only keep the rows in step with Spotify,
never overwriting a known value with a missing one (a simplified track from
an album listing has no ISRC, a full one does).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.spotify.types import AlbumRef, TrackInfo
from service.store.models import Album, Track, utcnow


def _set(row: Any, field: str, value: Any) -> None:
    """Assign only on a real change, so ``updated_at`` moves only when something did."""
    if value is not None and getattr(row, field) != value:
        setattr(row, field, value)


def upsert_track(
    *,
    session: Session,
    info: TrackInfo,
    is_bach: bool,
    bwv: str | None,
    meta: dict[str, Any],
    source: str,
    album: AlbumRef | None = None,
    now: datetime | None = None,
) -> tuple[Track, bool]:
    """Insert or refresh one track; returns ``(row, created)``.

    ``album`` stands in when the track comes without one (album listings).
    ``source`` is kept from the first sighting: it says how bachbot found it.
    """
    album = info.album or album
    row = session.get(Track, info.id)
    created = row is None
    if row is None:
        row = Track(id=info.id, source=source, first_seen_at=now or utcnow(), meta={})
        session.add(row)
    _set(row, "name", info.name)
    _set(row, "artists", [{"id": a.id, "name": a.name} for a in info.artists])
    if album is not None:
        _set(row, "album_id", album.id)
        _set(row, "album_name", album.name)
        _set(row, "album_type", album.album_type)
        _set(row, "release_date", album.release_date)
    _set(row, "duration_ms", info.duration_ms)
    _set(row, "isrc", info.isrc)
    _set(row, "track_number", info.track_number)
    if row.is_bach != is_bach:
        row.is_bach = is_bach
    if row.bwv != bwv:
        row.bwv = bwv
    if row.meta != meta:
        row.meta = meta
    session.flush()
    return row, created


def upsert_album(
    *, session: Session, ref: AlbumRef, found_via: str, now: datetime | None = None
) -> tuple[Album, bool]:
    """Insert or refresh one album; ``found_via`` and ``tracks_read_at`` are kept."""
    row = session.get(Album, ref.id)
    created = row is None
    if row is None:
        row = Album(id=ref.id, name=ref.name, found_via=found_via, first_seen_at=now or utcnow())
        session.add(row)
    _set(row, "name", ref.name)
    _set(row, "album_type", ref.album_type)
    _set(row, "release_date", ref.release_date)
    _set(row, "total_tracks", ref.total_tracks)
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


def known_album_ids(*, session: Session, ids: Iterable[str]) -> set[str]:
    wanted = list(set(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(session.scalars(select(Album.id).where(Album.id.in_(chunk))))
    return found


def unread_albums(*, session: Session, limit: int | None = None) -> list[Album]:
    """Albums whose tracks have not been read yet, oldest sighting first."""
    query = (
        select(Album).where(Album.tracks_read_at.is_(None)).order_by(Album.first_seen_at, Album.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
