"""The Web API endpoints of the local Spotify: request in, (status, JSON) out.

Each handler is a function of a :class:`Call` (the parsed request, the
authenticated user, the mode) and returns a :class:`Reply`; the HTTP server in
:mod:`service.spotify_sim.server` does the socket work, auth, faults and
validation.  Limits are the 2026 ones (search and artist albums at most 10,
``/me/library`` at most 40 URIs, playlist writes at most 100).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from service.spotify_sim import render
from service.spotify_sim import search as search_query
from service.spotify_sim.state import SimAlbum, SimPlaylistItem, SimState, SimUser

NEW = "new"
EXTENDED = "extended"

RESTRICTED_ITEMS = (
    "Forbidden: since 2026 apps in development mode may read items only of playlists "
    "the user owns or collaborates on"
)
RESTRICTED_ENDPOINT = "Forbidden: this endpoint is not available to apps without extended quota"


@dataclass
class Call:
    method: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    user: SimUser
    state: SimState
    base: str
    mode: str


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _int(call: Call, name: str, default: int, low: int = 0, high: int | None = None) -> int:
    raw = call.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as err:
        raise ApiError(400, f"Invalid {name}") from err
    if value < low or (high is not None and value > high):
        raise ApiError(400, f"Invalid {name}")
    return value


def _paging(call: Call, default: int, high: int) -> tuple[int, int]:
    return _int(call, "offset", 0), _int(call, "limit", default, 1, high)


def _id_from_uri(uri: str, kind: str = "track") -> str:
    match = re.fullmatch(rf"spotify:{kind}:([0-9A-Za-z]+)", uri)
    if not match:
        raise ApiError(400, f"Invalid URI {uri!r}")
    return match.group(1)


def _known_track(call: Call, track_id: str) -> str:
    if track_id not in call.state.tracks:
        raise ApiError(400, f"Invalid track id {track_id}")
    return track_id


def _playlist(call: Call) -> Any:
    playlist = call.state.playlists.get(call.params["id"])
    if playlist is None:
        raise ApiError(404, "Resource not found")
    return playlist


def _may_read_items(call: Call, playlist: Any) -> bool:
    if call.mode == EXTENDED:
        return True
    return bool(playlist.owner_id == call.user.id or call.user.id in playlist.collaborators)


def _may_write(call: Call, playlist: Any) -> bool:
    return bool(playlist.owner_id == call.user.id or call.user.id in playlist.collaborators)


# --- user and playlists --------------------------------------------------------
def get_me(call: Call) -> Reply:
    return Reply(200, render.me(call.base, call.user))


def get_my_playlists(call: Call) -> Reply:
    offset, limit = _paging(call, 20, 50)
    ids = [i for i in call.user.followed_playlists if i in call.state.playlists]
    items = [
        render.simplified_playlist(call.base, call.state, call.state.playlists[i])
        for i in ids[offset : offset + limit]
    ]
    return Reply(200, render.page(call.base, "me/playlists", items, len(ids), offset, limit))


def create_playlist(call: Call) -> Reply:
    body = call.body if isinstance(call.body, dict) else {}
    if not body.get("name"):
        raise ApiError(400, "Missing required field: name")
    pid = call.state.add_playlist(
        owner=call.user.id,
        name=str(body["name"]),
        public=bool(body.get("public", True)),
        collaborative=bool(body.get("collaborative", False)),
        description=body.get("description"),
    )
    playlist = call.state.playlists[pid]
    return Reply(201, render.playlist(call.base, call.state, playlist, with_items=True))


def get_playlist(call: Call) -> Reply:
    playlist = _playlist(call)
    readable = _may_read_items(call, playlist)
    return Reply(200, render.playlist(call.base, call.state, playlist, with_items=readable))


def change_playlist(call: Call) -> Reply:
    playlist = _playlist(call)
    if playlist.owner_id != call.user.id:
        raise ApiError(403, "Forbidden: only the owner may change a playlist's details")
    body = call.body if isinstance(call.body, dict) else {}
    for key in ("name", "description", "public", "collaborative"):
        if key in body:
            setattr(playlist, key, body[key])
    playlist.touch()
    return Reply(200)


def get_items(call: Call) -> Reply:
    playlist = _playlist(call)
    if not _may_read_items(call, playlist):
        raise ApiError(403, RESTRICTED_ITEMS)
    offset, limit = _paging(call, 20, 50)
    end = min(offset + limit, len(playlist.items))
    items = [render.playlist_item(call.base, call.state, playlist, i) for i in range(offset, end)]
    path = f"playlists/{playlist.id}/items"
    return Reply(200, render.page(call.base, path, items, len(playlist.items), offset, limit))


def _uris(call: Call) -> list[str]:
    if "uris" in call.query:
        return [u for u in call.query["uris"].split(",") if u]
    body = call.body if isinstance(call.body, dict) else {}
    return list(body.get("uris") or [])


def _writable(call: Call) -> Any:
    playlist = _playlist(call)
    if not _may_write(call, playlist):
        raise ApiError(403, "Forbidden: you cannot modify a playlist you do not own")
    return playlist


def _new_items(call: Call, uris: list[str]) -> list[SimPlaylistItem]:
    if len(uris) > 100:
        raise ApiError(400, "Too many ids requested: at most 100")
    now = datetime.now(UTC).replace(microsecond=0)
    ids = [_known_track(call, _id_from_uri(u)) for u in uris]
    return [SimPlaylistItem(i, now, call.user.id) for i in ids]


def replace_items(call: Call) -> Reply:
    playlist = _writable(call)
    body = call.body if isinstance(call.body, dict) else {}
    if "range_start" in body:
        raise ApiError(400, "Reordering is not supported by the local Spotify")
    playlist.items = _new_items(call, _uris(call))
    playlist.touch()
    return Reply(200, {"snapshot_id": playlist.snapshot_id})


def _position(call: Call, length: int) -> int:
    """Where POST items inserts: Spotify refuses a position that is not 0..length."""
    body = call.body if isinstance(call.body, dict) else {}
    raw = body.get("position", call.query.get("position"))
    if raw is None:
        return length
    try:
        at = int(raw)
    except (TypeError, ValueError) as err:
        raise ApiError(400, "Invalid position") from err
    if isinstance(raw, bool) or not 0 <= at <= length:
        raise ApiError(400, "Index out of bounds")
    return at


def add_items(call: Call) -> Reply:
    playlist = _writable(call)
    uris = _uris(call)
    if not uris:
        raise ApiError(400, "No uris provided")
    new = _new_items(call, uris)
    at = _position(call, len(playlist.items))
    playlist.items[at:at] = new
    playlist.touch()
    return Reply(201, {"snapshot_id": playlist.snapshot_id})


def remove_items(call: Call) -> Reply:
    playlist = _writable(call)
    body = call.body if isinstance(call.body, dict) else {}
    entries = body.get("items")
    if not isinstance(entries, list) or len(entries) > 100:
        raise ApiError(400, "Missing or too many items: at most 100")
    gone = {_id_from_uri(str(entry.get("uri", ""))) for entry in entries}
    playlist.items = [item for item in playlist.items if item.track_id not in gone]
    playlist.touch()
    return Reply(200, {"snapshot_id": playlist.snapshot_id})


# --- library ------------------------------------------------------------------
def get_saved_tracks(call: Call) -> Reply:
    offset, limit = _paging(call, 20, 50)
    likes = sorted(call.user.likes.items(), key=lambda kv: kv[1], reverse=True)
    items = [render.saved_track(call.base, call.state, t, at) for t, at in likes[offset:][:limit]]
    return Reply(200, render.page(call.base, "me/tracks", items, len(likes), offset, limit))


def _library_uris(call: Call) -> list[str]:
    uris = [u for u in call.query.get("uris", "").split(",") if u]
    if not uris:
        raise ApiError(400, "Missing uris parameter")
    if len(uris) > 40:
        raise ApiError(400, "Too many ids requested: at most 40 URIs")
    return uris


def save_library(call: Call) -> Reply:
    now = datetime.now(UTC).replace(microsecond=0)
    for uri in _library_uris(call):
        if uri.startswith("spotify:album:"):
            album_id = _id_from_uri(uri, "album")
            if album_id not in call.state.albums:
                raise ApiError(400, f"Invalid album id {album_id}")
            call.user.saved_albums[album_id] = now
        else:
            call.user.likes[_known_track(call, _id_from_uri(uri))] = now
    return Reply(200)


def remove_library(call: Call) -> Reply:
    for uri in _library_uris(call):
        if uri.startswith("spotify:album:"):
            call.user.saved_albums.pop(_id_from_uri(uri, "album"), None)
        else:
            call.user.likes.pop(_id_from_uri(uri), None)
    return Reply(200)


def get_saved_albums(call: Call) -> Reply:
    offset, limit = _paging(call, 20, 50)
    saved = sorted(call.user.saved_albums.items(), key=lambda kv: kv[1], reverse=True)
    items = [render.saved_album(call.base, call.state, a, at) for a, at in saved[offset:][:limit]]
    return Reply(200, render.page(call.base, "me/albums", items, len(saved), offset, limit))


def get_recently_played(call: Call) -> Reply:
    limit = _int(call, "limit", 20, 1, 50)
    history = call.user.recently_played[:limit]
    items = [render.play_history(call.base, call.state, t, at) for t, at in history]
    stamps = [str(int(at.timestamp() * 1000)) for _, at in history] or ["0"]
    more = len(call.user.recently_played) > limit
    href = f"{call.base}me/player/recently-played?limit={limit}"
    return Reply(
        200,
        {
            "href": href,
            "limit": limit,
            "next": f"{href}&before={stamps[-1]}" if more else None,
            "cursors": {"after": stamps[0], "before": stamps[-1]},
            "total": len(call.user.recently_played),
            "items": items,
        },
    )


def get_top_tracks(call: Call) -> Reply:
    offset, limit = _paging(call, 20, 50)
    ids = call.user.top_tracks
    items = [render.track(call.base, call.state, call.state.tracks[t]) for t in ids]
    page = items[offset : offset + limit]
    return Reply(200, render.page(call.base, "me/top/tracks", page, len(ids), offset, limit))


# --- catalogue ----------------------------------------------------------------
GROUP_ORDER = {"album": 0, "single": 1, "compilation": 2, "appears_on": 3}


def _group(album: SimAlbum, artist_id: str) -> str:
    """Spotify's ``album_group``: the album's type, or ``appears_on`` for a guest artist."""
    if album.artist_ids and album.artist_ids[0] != artist_id:
        return "appears_on"
    return album.album_type if album.album_type in GROUP_ORDER else "album"


def get_artist_albums(call: Call) -> Reply:
    artist_id = call.params["id"]
    if artist_id not in call.state.artists:
        raise ApiError(404, "Resource not found")
    offset, limit = _paging(call, 5, 10)
    groups = call.query.get("include_groups")
    albums = discography(call.state, artist_id, groups.split(",") if groups else None)
    items = [render.simplified_album(call.base, call.state, a) for a in albums[offset:][:limit]]
    path = f"artists/{artist_id}/albums"
    extra = {"include_groups": groups} if groups else None
    return Reply(200, render.page(call.base, path, items, len(albums), offset, limit, extra))


def discography(state: SimState, artist_id: str, groups: list[str] | None) -> list[SimAlbum]:
    """An artist's albums in the order Spotify lists them.

    Group by group (albums, then singles, then compilations, then appears_on),
    each newest first - not newest first overall:
    https://github.com/spotify/web-api/issues/1002 and /issues/1431.
    """
    albums = sorted(
        (a for a in state.albums.values() if artist_id in a.artist_ids),
        key=lambda a: (a.release_date, a.id),
        reverse=True,
    )
    albums.sort(key=lambda a: GROUP_ORDER[_group(a, artist_id)])
    return [a for a in albums if groups is None or _group(a, artist_id) in groups]


def get_album(call: Call) -> Reply:
    album = call.state.albums.get(call.params["id"])
    if album is None:
        raise ApiError(404, "Resource not found")
    return Reply(200, render.album(call.base, call.state, album))


def get_album_tracks(call: Call) -> Reply:
    album = call.state.albums.get(call.params["id"])
    if album is None:
        raise ApiError(404, "Resource not found")
    offset, limit = _paging(call, 20, 50)
    tracks = [call.state.tracks[t] for t in album.track_ids[offset : offset + limit]]
    items = [render.simplified_track(call.base, call.state, t) for t in tracks]
    path = f"albums/{album.id}/tracks"
    return Reply(200, render.page(call.base, path, items, len(album.track_ids), offset, limit))


def get_track(call: Call) -> Reply:
    track = call.state.tracks.get(call.params["id"])
    if track is None:
        raise ApiError(404, "Resource not found")
    return Reply(200, render.track(call.base, call.state, track))


SEARCH_TYPES = ("album", "track")


def search(call: Call) -> Reply:
    """``GET /search`` for albums and tracks, with Spotify's field filters
    (:mod:`service.spotify_sim.search`); other result types are not simulated."""
    try:
        query = search_query.parse(call.query.get("q", "").strip())
        searcher = search_query.Searcher(call.state, query, call.state.clock().date())
    except search_query.QueryError as err:
        raise ApiError(400, str(err)) from err
    types = [t for t in call.query.get("type", "").split(",") if t]
    if not types or any(t not in SEARCH_TYPES for t in types):
        raise ApiError(400, "The local Spotify searches albums and tracks only (type=album,track)")
    offset, limit = _paging(call, 5, 10)
    extra = {"q": call.query.get("q", ""), "type": ",".join(types)}
    reply: dict[str, Any] = {}
    for kind in types:
        if kind == "album":
            albums = list(searcher.albums())
            total, reachable = len(albums), min(len(albums), search_query.REACHABLE)
            shown = albums[offset : min(offset + limit, reachable)]
            items = [render.simplified_album(call.base, call.state, a) for a in shown]
        else:
            tracks = list(searcher.tracks())
            total, reachable = len(tracks), min(len(tracks), search_query.REACHABLE)
            shown_tracks = tracks[offset : min(offset + limit, reachable)]
            items = [render.track(call.base, call.state, t) for t in shown_tracks]
        page = render.page(call.base, "search", items, total, offset, limit, extra)
        if offset + limit >= reachable:
            page["next"] = None  # nothing past the 1,000th hit can be asked for
        reply[f"{kind}s"] = page
    return Reply(200, reply)


def _ids(call: Call, most: int) -> list[str]:
    ids = [i for i in call.query.get("ids", "").split(",") if i]
    if not ids or len(ids) > most:
        raise ApiError(400, f"Invalid ids: give 1 to {most}")
    return ids


def get_audio_features(call: Call) -> Reply:
    if call.mode != EXTENDED:
        raise ApiError(403, RESTRICTED_ENDPOINT)
    features = []
    for track_id in _ids(call, 100):
        track = call.state.tracks.get(track_id)
        features.append(render.audio_features(call.base, track) if track else None)
    return Reply(200, {"audio_features": features})


def get_audio_analysis(call: Call) -> Reply:
    if call.mode != EXTENDED:
        raise ApiError(403, RESTRICTED_ENDPOINT)
    track = call.state.tracks.get(call.params["id"])
    analysis = render.audio_analysis(track) if track else None
    if analysis is None:
        raise ApiError(404, "analysis not found")
    return Reply(200, analysis)


def reccobeats_features(call: Call) -> Reply:
    """ReccoBeats: unknown ids are dropped silently, and the order is not kept."""
    ids = _ids(call, 40)
    found = [call.state.tracks[i] for i in sorted(set(ids)) if i in call.state.tracks]
    content = [item for t in found if (item := render.reccobeats_item(t)) is not None]
    return Reply(200, {"content": content})


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    name: str
    """``"GET /playlists/{id}/items"``: the key of ``sim.calls`` and of fault rules."""
    pattern: re.Pattern[str]
    spec_path: str | None
    handler: Handler


def _route(method: str, path: str, spec_path: str | None, handler: Handler) -> Route:
    regex = re.sub(r"\{[a-z_]+\}", r"(?P<id>[^/]+)", path)
    return Route(method, f"{method} {path}", re.compile(f"^{regex}$"), spec_path, handler)


API_ROUTES: tuple[Route, ...] = (
    _route("GET", "/me", "/me", get_me),
    _route("GET", "/me/playlists", "/me/playlists", get_my_playlists),
    _route("POST", "/me/playlists", "/me/playlists", create_playlist),
    _route("GET", "/playlists/{id}", "/playlists/{playlist_id}", get_playlist),
    _route("PUT", "/playlists/{id}", "/playlists/{playlist_id}", change_playlist),
    _route("GET", "/playlists/{id}/items", "/playlists/{playlist_id}/items", get_items),
    _route("PUT", "/playlists/{id}/items", "/playlists/{playlist_id}/items", replace_items),
    _route("POST", "/playlists/{id}/items", "/playlists/{playlist_id}/items", add_items),
    _route("DELETE", "/playlists/{id}/items", "/playlists/{playlist_id}/items", remove_items),
    _route("GET", "/me/tracks", "/me/tracks", get_saved_tracks),
    _route("PUT", "/me/library", "/me/library", save_library),
    _route("DELETE", "/me/library", "/me/library", remove_library),
    _route("GET", "/me/albums", "/me/albums", get_saved_albums),
    _route("GET", "/me/player/recently-played", "/me/player/recently-played", get_recently_played),
    _route("GET", "/me/top/tracks", "/me/top/tracks", get_top_tracks),
    _route("GET", "/artists/{id}/albums", "/artists/{id}/albums", get_artist_albums),
    _route("GET", "/albums/{id}", "/albums/{id}", get_album),
    _route("GET", "/albums/{id}/tracks", "/albums/{id}/tracks", get_album_tracks),
    _route("GET", "/tracks/{id}", "/tracks/{id}", get_track),
    _route("GET", "/search", "/search", search),
    _route("GET", "/audio-features", "/audio-features", get_audio_features),
    _route("GET", "/audio-analysis/{id}", "/audio-analysis/{id}", get_audio_analysis),
)

RECCOBEATS_ROUTES: tuple[Route, ...] = (
    _route("GET", "/v1/audio-features", None, reccobeats_features),
)
