"""What the local Spotify knows: a catalogue and its users, built in tests or loaded from JSON.

Everything is held in plain dataclasses behind one re-entrant lock, so a test
can act as the user (like, unlike, remove a playlist item) while the server
thread answers bachbot's requests.

Data file format (``SimState.load(path)`` / ``SimState.from_dict(data)``), JSON::

    {
      "artists": [{"id": "5aIqB5nVVvmFsvSdExz408", "name": "Johann Sebastian Bach"}],
      "albums": [{"id": "...", "name": "Goldberg Variations", "album_type": "album",
                  "release_date": "1982-01-01", "artist_ids": ["..."], "label": "CBS"}],
      "tracks": [{"id": "...", "name": "Aria", "album_id": "...", "artist_ids": ["...", "..."],
                  "duration_ms": 180000, "track_number": 1, "disc_number": 1,
                  "isrc": "USSM18200001",
                  "audio_features": {"acousticness": 0.9, "danceability": 0.3, "energy": 0.1,
                                     "instrumentalness": 0.9, "key": 7, "liveness": 0.1,
                                     "loudness": -20.0, "mode": 1, "speechiness": 0.04,
                                     "tempo": 80.0, "time_signature": 3, "valence": 0.3},
                  "analysis_segments": [{"start": 0.0, "duration": 0.5, "confidence": 0.9,
                                         "loudness_start": -30.0, "loudness_max": -20.0,
                                         "loudness_max_time": 0.1, "loudness_end": -25.0,
                                         "pitches": [12 numbers in 0..1],
                                         "timbre": [12 numbers]}],
                  "reccobeats": {"acousticness": ..., "tempo": ..., ...}}],
      "users": [{"id": "listener", "display_name": "Listener", "product": "premium",
                 "likes": [{"track_id": "...", "added_at": "2026-01-02T10:00:00Z"}],
                 "saved_albums": [{"album_id": "...", "added_at": "..."}],
                 "recently_played": [{"track_id": "...", "played_at": "..."}],
                 "top_tracks": ["track id", ...],
                 "followed_playlists": ["playlist id", ...]}],
      "playlists": [{"id": "...", "name": "Bach mornings", "owner_id": "listener",
                     "collaborative": false, "public": false, "description": null,
                     "collaborators": ["other user id"],
                     "items": [{"track_id": "...", "added_at": "...", "added_by": "listener"}]}],
      "default_user": "listener"
    }

Every key but the ids and names is optional.  Track ``audio_features``,
``analysis_segments`` and ``reccobeats`` are optional: a track without them
has no features at that source (as many real recordings do).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def make_id(seed: str) -> str:
    """A deterministic 22-character base62 id, shaped like a Spotify id."""
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:17], "big")
    chars = []
    for _ in range(22):
        number, rest = divmod(number, 62)
        chars.append(BASE62[rest])
    return "".join(chars)


def parse_time(value: str | datetime) -> datetime:
    """ISO 8601 (``Z`` allowed) to an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SimArtist:
    id: str
    name: str


@dataclass
class SimAlbum:
    id: str
    name: str
    album_type: str
    release_date: str
    artist_ids: list[str]
    label: str = ""
    upc: str = ""
    track_ids: list[str] = field(default_factory=list)


@dataclass
class SimTrack:
    id: str
    name: str
    album_id: str
    artist_ids: list[str]
    duration_ms: int = 240_000
    track_number: int = 1
    disc_number: int = 1
    isrc: str | None = None
    audio_features: dict[str, Any] | None = None
    analysis_segments: list[dict[str, Any]] | None = None
    reccobeats: dict[str, Any] | None = None


@dataclass
class SimPlaylistItem:
    track_id: str
    added_at: datetime
    added_by: str


@dataclass
class SimPlaylist:
    id: str
    name: str
    owner_id: str
    collaborative: bool = False
    public: bool = False
    description: str | None = None
    collaborators: set[str] = field(default_factory=set)
    items: list[SimPlaylistItem] = field(default_factory=list)
    version: int = 0

    @property
    def snapshot_id(self) -> str:
        """Changes on every write, like Spotify's (opaque to clients)."""
        return make_id(f"snapshot:{self.id}:{self.version}") + f"{self.version:08d}"

    def touch(self) -> None:
        self.version += 1


@dataclass
class SimUser:
    id: str
    display_name: str | None = None
    product: str = "premium"
    likes: dict[str, datetime] = field(default_factory=dict)
    saved_albums: dict[str, datetime] = field(default_factory=dict)
    recently_played: list[tuple[str, datetime]] = field(default_factory=list)
    top_tracks: list[str] = field(default_factory=list)
    followed_playlists: list[str] = field(default_factory=list)


class SimState:
    """The catalogue and users.  Builder methods return the new object's id."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.artists: dict[str, SimArtist] = {}
        self.albums: dict[str, SimAlbum] = {}
        self.tracks: dict[str, SimTrack] = {}
        self.playlists: dict[str, SimPlaylist] = {}
        self.users: dict[str, SimUser] = {}
        self.default_user: str | None = None
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        """"Now" for the catalogue (search's ``tag:new`` window); tests and benches set it."""
        self._counter = 0

    def _new_id(self, kind: str) -> str:
        self._counter += 1
        return make_id(f"{kind}:{self._counter}")

    # --- catalogue --------------------------------------------------------
    def add_artist(self, name: str, *, id: str | None = None) -> str:
        with self.lock:
            artist = SimArtist(id=id or self._new_id("artist"), name=name)
            self.artists[artist.id] = artist
            return artist.id

    def add_album(
        self,
        name: str,
        *,
        artist_ids: list[str] | None = None,
        album_type: str = "album",
        release_date: str = "2020-01-01",
        label: str = "",
        id: str | None = None,
    ) -> str:
        with self.lock:
            for artist_id in artist_ids or []:
                self._require(self.artists, artist_id, "artist")
            album = SimAlbum(
                id=id or self._new_id("album"),
                name=name,
                album_type=album_type,
                release_date=release_date,
                artist_ids=list(artist_ids or []),
                label=label,
            )
            self.albums[album.id] = album
            return album.id

    def add_track(
        self,
        name: str,
        *,
        album_id: str | None = None,
        artist_ids: list[str] | None = None,
        duration_ms: int = 240_000,
        isrc: str | None = None,
        audio_features: dict[str, Any] | None = None,
        analysis_segments: list[dict[str, Any]] | None = None,
        reccobeats: dict[str, Any] | None = None,
        disc_number: int = 1,
        id: str | None = None,
    ) -> str:
        """Add a track; without ``album_id`` it gets a single of its own."""
        with self.lock:
            artists = list(artist_ids or [])
            for artist_id in artists:
                self._require(self.artists, artist_id, "artist")
            if album_id is None:
                album_id = self.add_album(name, artist_ids=artists, album_type="single")
            album = self._require(self.albums, album_id, "album")
            track = SimTrack(
                id=id or self._new_id("track"),
                name=name,
                album_id=album_id,
                artist_ids=artists,
                duration_ms=duration_ms,
                track_number=len(album.track_ids) + 1,
                disc_number=disc_number,
                isrc=isrc,
                audio_features=audio_features,
                analysis_segments=analysis_segments,
                reccobeats=reccobeats,
            )
            album.track_ids.append(track.id)
            self.tracks[track.id] = track
            return track.id

    # --- users and their library -------------------------------------------
    def add_user(
        self, id: str, *, display_name: str | None = None, product: str = "premium"
    ) -> str:
        with self.lock:
            self.users[id] = SimUser(id=id, display_name=display_name or id, product=product)
            if self.default_user is None:
                self.default_user = id
            return id

    def add_playlist(
        self,
        *,
        owner: str,
        name: str,
        track_ids: list[str] | None = None,
        collaborative: bool = False,
        collaborators: list[str] | None = None,
        public: bool = False,
        description: str | None = None,
        followed_by: list[str] | None = None,
        added_at: datetime | None = None,
        id: str | None = None,
    ) -> str:
        """A playlist owned by ``owner`` (added to its owner's and followers' lists)."""
        with self.lock:
            self._require(self.users, owner, "user")
            when = added_at or datetime(2025, 1, 1, tzinfo=UTC)
            playlist = SimPlaylist(
                id=id or self._new_id("playlist"),
                name=name,
                owner_id=owner,
                collaborative=collaborative,
                public=public,
                description=description,
                collaborators=set(collaborators or []),
            )
            for track_id in track_ids or []:
                self._require(self.tracks, track_id, "track")
                playlist.items.append(SimPlaylistItem(track_id, when, owner))
            self.playlists[playlist.id] = playlist
            for user_id in [owner, *(followed_by or [])]:
                self._require(self.users, user_id, "user").followed_playlists.append(playlist.id)
            return playlist.id

    def like(self, user: str, track_id: str, added_at: datetime) -> None:
        with self.lock:
            self._require(self.tracks, track_id, "track")
            self._require(self.users, user, "user").likes[track_id] = parse_time(added_at)

    def unlike(self, user: str, track_id: str) -> None:
        with self.lock:
            self._require(self.users, user, "user").likes.pop(track_id, None)

    def save_album(self, user: str, album_id: str, added_at: datetime) -> None:
        with self.lock:
            self._require(self.albums, album_id, "album")
            self._require(self.users, user, "user").saved_albums[album_id] = parse_time(added_at)

    def play(self, user: str, track_id: str, played_at: datetime) -> None:
        with self.lock:
            self._require(self.tracks, track_id, "track")
            history = self._require(self.users, user, "user").recently_played
            history.append((track_id, parse_time(played_at)))
            history.sort(key=lambda pair: pair[1], reverse=True)

    def set_top_tracks(self, user: str, track_ids: list[str]) -> None:
        with self.lock:
            for track_id in track_ids:
                self._require(self.tracks, track_id, "track")
            self._require(self.users, user, "user").top_tracks = list(track_ids)

    def remove_from_playlist(self, playlist_id: str, track_id: str) -> None:
        """The user removes every occurrence of a track (as the Spotify app does)."""
        with self.lock:
            playlist = self._require(self.playlists, playlist_id, "playlist")
            playlist.items = [item for item in playlist.items if item.track_id != track_id]
            playlist.touch()

    def add_to_playlist(
        self, playlist_id: str, track_id: str, *, added_at: datetime, added_by: str | None = None
    ) -> None:
        with self.lock:
            playlist = self._require(self.playlists, playlist_id, "playlist")
            self._require(self.tracks, track_id, "track")
            who = added_by or playlist.owner_id
            playlist.items.append(SimPlaylistItem(track_id, parse_time(added_at), who))
            playlist.touch()

    def playlist_track_ids(self, playlist_id: str) -> list[str]:
        with self.lock:
            return [item.track_id for item in self.playlists[playlist_id].items]

    def find_playlists(self, name: str) -> list[str]:
        with self.lock:
            return [p.id for p in self.playlists.values() if p.name == name]

    @staticmethod
    def _require(table: dict[str, T], key: str, kind: str) -> T:
        try:
            return table[key]
        except KeyError as err:
            raise KeyError(f"local Spotify has no {kind} {key!r}; add it first") from err

    # --- data files ---------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> SimState:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimState:
        state = cls()
        for artist in data.get("artists", []):
            state.add_artist(artist["name"], id=artist["id"])
        for album in data.get("albums", []):
            state.add_album(
                album["name"],
                id=album["id"],
                artist_ids=album.get("artist_ids", []),
                album_type=album.get("album_type", "album"),
                release_date=album.get("release_date", "2020-01-01"),
                label=album.get("label", ""),
            )
        for track in data.get("tracks", []):
            state.add_track(
                track["name"],
                id=track["id"],
                album_id=track.get("album_id"),
                artist_ids=track.get("artist_ids", []),
                duration_ms=track.get("duration_ms", 240_000),
                isrc=track.get("isrc"),
                disc_number=track.get("disc_number", 1),
                audio_features=track.get("audio_features"),
                analysis_segments=track.get("analysis_segments"),
                reccobeats=track.get("reccobeats"),
            )
        for user in data.get("users", []):
            state.add_user(
                user["id"],
                display_name=user.get("display_name"),
                product=user.get("product", "premium"),
            )
        for playlist in data.get("playlists", []):
            pid = state.add_playlist(
                owner=playlist["owner_id"],
                name=playlist["name"],
                id=playlist["id"],
                collaborative=playlist.get("collaborative", False),
                collaborators=playlist.get("collaborators", []),
                public=playlist.get("public", False),
                description=playlist.get("description"),
            )
            for item in playlist.get("items", []):
                state.add_to_playlist(
                    pid,
                    item["track_id"],
                    added_at=parse_time(item.get("added_at", "2025-01-01T00:00:00Z")),
                    added_by=item.get("added_by"),
                )
            state.playlists[pid].version = 0
        for user in data.get("users", []):
            uid = user["id"]
            for like in user.get("likes", []):
                state.like(uid, like["track_id"], parse_time(like["added_at"]))
            for saved in user.get("saved_albums", []):
                state.save_album(uid, saved["album_id"], parse_time(saved["added_at"]))
            for played in user.get("recently_played", []):
                state.play(uid, played["track_id"], parse_time(played["played_at"]))
            state.set_top_tracks(uid, user.get("top_tracks", []))
            followed = state.users[uid].followed_playlists
            for pid in user.get("followed_playlists", []):
                if pid not in followed:
                    followed.append(pid)
        if data.get("default_user"):
            state.default_user = data["default_user"]
        return state
