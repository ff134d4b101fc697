"""The gateway's typed view of Spotify objects: frozen dataclasses, no spotipy dicts.

Only the fields bachbot uses; the parsers in :mod:`service.spotify.parse`
build them from the Web API's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Artist:
    id: str | None
    name: str


@dataclass(frozen=True)
class AlbumRef:
    id: str
    name: str
    album_type: str | None
    release_date: str | None
    total_tracks: int | None
    artists: tuple[Artist, ...]


@dataclass(frozen=True)
class TrackInfo:
    id: str
    name: str
    artists: tuple[Artist, ...]
    album: AlbumRef | None
    duration_ms: int | None
    isrc: str | None
    track_number: int | None
    is_local: bool
    is_playable: bool | None

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"


@dataclass(frozen=True)
class User:
    id: str
    display_name: str | None
    product: str | None


@dataclass(frozen=True)
class PlaylistInfo:
    id: str
    name: str
    owner_id: str
    owner_name: str | None
    snapshot_id: str
    collaborative: bool
    public: bool | None
    items_total: int | None
    description: str | None


@dataclass(frozen=True)
class PlaylistItem:
    track: TrackInfo | None
    """None for episodes, local files and tracks no longer available."""
    added_at: datetime | None
    position: int


@dataclass(frozen=True)
class SavedTrack:
    track: TrackInfo
    added_at: datetime


@dataclass(frozen=True)
class PlayHistory:
    track: TrackInfo
    played_at: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int | None
    offset: int
    next_offset: int | None
