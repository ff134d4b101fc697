"""Web API JSON -> the gateway's dataclasses.  Pure functions, tested by tables.

They accept both the 2026 field names and the older ones a grandfathered app
may still get (``item``/``track`` in playlist items, ``items``/``tracks`` in
playlist summaries), and never fail on a missing optional field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.spotify.types import (
    AlbumRef,
    Artist,
    Page,
    PlayHistory,
    PlaylistInfo,
    PlaylistItem,
    SavedTrack,
    TrackInfo,
    User,
)

Json = dict[str, Any]


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def artist(data: Json) -> Artist:
    return Artist(id=data.get("id"), name=str(data.get("name") or ""))


def album(data: Json) -> AlbumRef:
    return AlbumRef(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        album_type=data.get("album_type"),
        release_date=data.get("release_date"),
        total_tracks=data.get("total_tracks"),
        artists=tuple(artist(a) for a in data.get("artists") or []),
    )


def track(data: Json | None, *, album_ref: AlbumRef | None = None) -> TrackInfo | None:
    """A track, or None for episodes, local files and unavailable (id-less) tracks."""
    if not data or data.get("type", "track") != "track" or data.get("is_local"):
        return None
    if not data.get("id"):
        return None
    album_data = data.get("album")
    return TrackInfo(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        artists=tuple(artist(a) for a in data.get("artists") or []),
        album=album(album_data) if album_data else album_ref,
        duration_ms=data.get("duration_ms"),
        isrc=(data.get("external_ids") or {}).get("isrc"),
        track_number=data.get("track_number"),
        is_local=bool(data.get("is_local", False)),
        is_playable=data.get("is_playable"),
    )


def user(data: Json) -> User:
    return User(
        id=str(data["id"]), display_name=data.get("display_name"), product=data.get("product")
    )


def playlist(data: Json) -> PlaylistInfo:
    owner = data.get("owner") or {}
    summary = data.get("items") if isinstance(data.get("items"), dict) else data.get("tracks")
    return PlaylistInfo(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        owner_id=str(owner.get("id") or ""),
        owner_name=owner.get("display_name"),
        snapshot_id=str(data.get("snapshot_id") or ""),
        collaborative=bool(data.get("collaborative", False)),
        public=data.get("public"),
        items_total=(summary or {}).get("total"),
        description=data.get("description") or None,
    )


def playlist_item(data: Json, position: int) -> PlaylistItem:
    content = data.get("item") if "item" in data else data.get("track")
    if data.get("is_local"):
        content = None
    return PlaylistItem(
        track=track(content), added_at=parse_time(data.get("added_at")), position=position
    )


def saved_track(data: Json) -> SavedTrack | None:
    info = track(data.get("track"))
    added = parse_time(data.get("added_at"))
    if info is None or added is None:
        return None
    return SavedTrack(track=info, added_at=added)


def play_history(data: Json) -> PlayHistory | None:
    info = track(data.get("track"))
    played = parse_time(data.get("played_at"))
    if info is None or played is None:
        return None
    return PlayHistory(track=info, played_at=played)


def next_offset(page: Json) -> int | None:
    """Where the next page starts, or None on the last page."""
    if not page.get("next"):
        return None
    return int(page.get("offset") or 0) + len(page.get("items") or [])


def album_page(page: Json, *, saved: bool = False) -> Page[AlbumRef]:
    raw = [entry.get("album") if saved else entry for entry in page.get("items") or []]
    return Page(
        items=[album(a) for a in raw if a],
        total=page.get("total"),
        offset=int(page.get("offset") or 0),
        next_offset=next_offset(page),
    )


def track_page(page: Json) -> Page[TrackInfo]:
    items = [t for t in (track(x) for x in page.get("items") or []) if t is not None]
    return Page(
        items=items,
        total=page.get("total"),
        offset=int(page.get("offset") or 0),
        next_offset=next_offset(page),
    )
