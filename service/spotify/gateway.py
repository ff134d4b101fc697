"""The one door to Spotify: typed results, our errors, paging and the retry policy.

Jobs get a :class:`SpotifyGateway` and never see spotipy.  Why it is built the
way it is:

- spotipy gets a plain ``requests.Session`` and ``retries=0``: spotipy's own
  retry sleeps a whole Retry-After (Spotify sends hours), and its urllib3
  retry turns a 503 into "429 Max Retries".  The policy lives here instead
  (:mod:`service.spotify.policy`): a short Retry-After is waited out, a long
  one or QUOTA_EXCEEDED ends the job with :class:`SpotifyRateLimited`; 5xx,
  resets, timeouts and unreadable answers back off with jitter, bounded.
- Only current endpoints: ``/playlists/{id}/items``, ``POST /me/playlists``,
  ``/tracks/{id}`` one at a time (batch
  ``GET /tracks`` is gone), artist albums and search at most 10 a page.
  spotipy 2.26's helpers for these call removed forms or wrong defaults, so
  we use its low-level ``_get/_put/_post/_delete``.
- A 401 forces one token refresh; a refused refresh is
  :class:`SpotifyAuthRevoked` ("run `bachbot auth` again").
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import spotipy

from service.settings import Settings
from service.spotify import parse
from service.spotify.auth import TokenStore, make_oauth
from service.spotify.errors import (
    SpotifyAccountBlocked,
    SpotifyAuthRevoked,
    SpotifyClientRejected,
    SpotifyError,
    SpotifyNotAuthenticated,
    SpotifyNotFound,
    SpotifyRateLimited,
    SpotifyRestricted,
    SpotifyUnavailable,
)
from service.spotify.policy import Outcome, backoff_delay, classify
from service.spotify.types import (
    AlbumRef,
    Page,
    PlayHistory,
    PlaylistInfo,
    PlaylistItem,
    SavedTrack,
    TrackInfo,
    User,
)

Json = dict[str, Any]
PLAYLIST_CHUNK = 100
FEATURES_CHUNK = 100
ALBUM_GROUPS = "album,single,compilation,appears_on"


class _HideTokens(logging.Filter):
    """spotipy logs request headers and token bodies at DEBUG; drop those lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        return not any(k in text for k in ("Bearer", "Authorization", "refresh_token", "Body"))


for _name in ("spotipy.client", "spotipy.oauth2"):
    logging.getLogger(_name).addFilter(_HideTokens())
# spotipy logs every HTTP error at ERROR with the full URL; the gateway turns each
# into one of our errors with a better message, so spotipy's own line is noise.
logging.getLogger("spotipy.client").setLevel(logging.CRITICAL)


ERROR_KINDS = {"wait": "rate_limited", "retry": "unavailable", "refresh": "unauthorized"}
"""The ``kind`` label of ``errors`` for each policy outcome (others keep their own name)."""


class SpotifyGateway:
    """Typed Spotify access for one account; ``calls`` counts requests per endpoint and
    ``errors`` failed attempts per (endpoint, kind), for /metrics."""

    def __init__(
        self,
        settings: Settings,
        store: TokenStore,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
        before_write: Callable[[], None] | None = None,
    ) -> None:
        """``before_write`` runs before every request that changes something on Spotify and
        may raise to stop it: the daemon passes its process-lock check, so a process that
        lost the lock writes nothing to Spotify either (see service.lock)."""
        self.settings = settings
        self._before_write = before_write
        self.calls: Counter[str] = Counter()
        self.errors: Counter[tuple[str, str]] = Counter()
        self._store = store
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._oauth = make_oauth(settings, store)
        self._client = spotipy.Spotify(
            auth_manager=self._oauth,
            requests_session=requests.Session(),
            requests_timeout=settings.spotify_timeout_s,
            retries=0,
            status_retries=0,
        )
        self._client.prefix = settings.spotify_api_base

    # --- the request loop -----------------------------------------------------------
    def _request(
        self,
        method: str,
        endpoint: str,
        path: str,
        *,
        params: Json | None = None,
        payload: Any = None,
        resource: str = "",
        expect_body: bool = True,
        idempotent: bool = True,
    ) -> Any:
        """One logical call: retries per the policy; returns the JSON (None if no body).

        A request that is not ``idempotent`` (creating a playlist, appending
        items) is never repeated after a timeout, a reset or a 5xx: Spotify may
        have applied it already, and a retry would make a second playlist or
        duplicate items.  It fails instead; publishing is built to recover on
        its next run (it adopts its marked playlist, and rewrites a half list).
        A 429 is still waited out: it means the request was not processed.
        """
        if method != "GET" and self._before_write is not None:
            self._before_write()
        failures = 0
        waits = 0
        refreshed = False
        while True:
            self.calls[endpoint] += 1
            try:
                result = self._send(method, path, params or {}, payload)
                if result is None and expect_body:
                    raise _Unreadable()
                return result
            except spotipy.SpotifyException as err:
                outcome = classify(err.http_status, err.headers or {}, f"{err.msg} {err.reason}")
                cause: BaseException = err
            except spotipy.SpotifyOauthError as err:
                final = _token_refusal(err, endpoint)
                if final is not None:
                    self.errors[endpoint, f"token_{err.error}"] += 1
                    raise final from err
                outcome, cause = Outcome.retry(f"token endpoint error {_token_detail(err)}"), err
            except (requests.ConnectionError, requests.Timeout) as err:
                outcome, cause = Outcome.retry(type(err).__name__), err
            except _Unreadable as err:
                outcome, cause = Outcome.retry("an unreadable (non-JSON) answer"), err

            self.errors[endpoint, ERROR_KINDS.get(outcome.kind, outcome.kind)] += 1
            if outcome.kind == "refresh":
                if refreshed:
                    raise SpotifyAuthRevoked(
                        endpoint=endpoint, detail="token refused after refresh"
                    ) from cause
                self._force_refresh(endpoint)
                refreshed = True
            elif outcome.kind == "wait":
                waits += 1
                too_long = outcome.retry_after_s > self.settings.max_retry_after_s
                if outcome.quota_exceeded or too_long or waits > self.settings.server_error_retries:
                    raise SpotifyRateLimited(
                        endpoint=endpoint,
                        retry_after_s=outcome.retry_after_s,
                        resume_at=self._clock() + timedelta(seconds=outcome.retry_after_s),
                        quota_exceeded=outcome.quota_exceeded,
                    ) from cause
                self._sleep(outcome.retry_after_s)
            elif outcome.kind == "retry":
                failures += 1
                if not idempotent:
                    raise SpotifyUnavailable(
                        endpoint=endpoint,
                        cause=f"{outcome.detail} (not repeated: it may have been applied)",
                        attempts=failures,
                    ) from cause
                if failures > self.settings.server_error_retries:
                    raise SpotifyUnavailable(
                        endpoint=endpoint, cause=outcome.detail, attempts=failures
                    ) from cause
                self._sleep(backoff_delay(self.settings.backoff_base_s, failures, self._jitter()))
            else:
                raise self._final_error(outcome, endpoint, resource) from cause

    def _send(self, method: str, path: str, params: Json, payload: Any) -> Any:
        if self._store.get_cached_token() is None:
            raise SpotifyNotAuthenticated()
        if method == "GET":
            return self._client._get(path, **params)
        if method == "POST":
            return self._client._post(path, payload=payload, **params)
        if method == "PUT":
            return self._client._put(path, payload=payload, **params)
        return self._client._delete(path, payload=payload, **params)

    def _force_refresh(self, endpoint: str) -> None:
        token = self._store.get_cached_token()
        if not token or not token.get("refresh_token"):
            raise SpotifyNotAuthenticated()
        try:
            self._oauth.refresh_access_token(token["refresh_token"])
        except spotipy.SpotifyOauthError as err:
            final = _token_refusal(err, endpoint)
            if final is None:
                cause = f"token endpoint error {_token_detail(err)}"
                final = SpotifyUnavailable(endpoint=endpoint, cause=cause, attempts=1)
            raise final from err

    @staticmethod
    def _final_error(outcome: Outcome, endpoint: str, resource: str) -> SpotifyError:
        thing = resource or endpoint
        if outcome.kind == "account_blocked" and outcome.refusal is not None:
            return SpotifyAccountBlocked(
                endpoint=endpoint,
                reason=outcome.refusal.reason,
                detail=outcome.detail,
                advice=outcome.refusal.advice,
            )
        if outcome.kind == "forbidden":
            return SpotifyRestricted(
                f"Spotify refused {thing}: {outcome.detail}",
                endpoint=endpoint,
                resource=thing,
                reason=outcome.detail,
            )
        if outcome.kind == "not_found":
            return SpotifyNotFound(endpoint=endpoint, resource=thing)
        return SpotifyError(
            f"Spotify {endpoint} rejected bachbot's request for {thing} ({outcome.detail}); "
            "this is a bachbot bug: please report it",
            endpoint=endpoint,
        )

    def _pages(
        self,
        endpoint: str,
        path: str,
        *,
        limit: int,
        params: Json | None = None,
        resource: str = "",
        offset: int = 0,
    ) -> Iterator[Json]:
        """Every page from ``offset`` on, by offset (never following ``next`` off-site)."""
        while True:
            page = self._request(
                "GET",
                endpoint,
                path,
                params={**(params or {}), "limit": limit, "offset": offset},
                resource=resource,
            )
            yield page
            following = parse.next_offset(page)
            if following is None or following <= offset:
                return
            offset = following

    # --- account and playlists --------------------------------------------------------
    def me(self) -> User:
        return parse.user(self._request("GET", "GET /me", "me"))

    def my_playlists(self) -> list[PlaylistInfo]:
        pages = self._pages("GET /me/playlists", "me/playlists", limit=50)
        return [parse.playlist(p) for page in pages for p in page.get("items") or [] if p]

    def playlist(self, playlist_id: str) -> PlaylistInfo:
        data = self._request(
            "GET",
            "GET /playlists/{id}",
            f"playlists/{playlist_id}",
            resource=f"playlist {playlist_id}",
        )
        return parse.playlist(data)

    def playlist_items(self, playlist_id: str, *, name: str | None = None) -> list[PlaylistItem]:
        """All items; someone else's playlist is :class:`SpotifyRestricted` (2026 rule)."""
        label = f'playlist "{name}"' if name else f"playlist {playlist_id}"
        endpoint = "GET /playlists/{id}/items"
        items: list[PlaylistItem] = []
        try:
            for page in self._pages(
                endpoint, f"playlists/{playlist_id}/items", limit=50, resource=label
            ):
                start = int(page.get("offset") or 0)
                items += [
                    parse.playlist_item(d, start + i) for i, d in enumerate(page.get("items") or [])
                ]
        except SpotifyRestricted as err:
            raise SpotifyRestricted(
                f"{label} is owned by another user; since 2026 Spotify lets apps read items "
                "only of playlists you own or collaborate on (bachbot skips it; copy it into a "
                "playlist of your own to use it)",
                endpoint=endpoint,
                resource=label,
                reason="not owner or collaborator",
            ) from err
        return items

    def create_playlist(self, name: str, *, public: bool, description: str) -> PlaylistInfo:
        data = self._request(
            "POST",
            "POST /me/playlists",
            "me/playlists",
            payload={"name": name, "public": public, "description": description},
            resource=f'new playlist "{name}"',
            idempotent=False,
        )
        return parse.playlist(data)

    def update_playlist_details(
        self, playlist_id: str, *, name: str | None = None, description: str | None = None
    ) -> None:
        payload = {k: v for k, v in (("name", name), ("description", description)) if v is not None}
        if payload:
            self._request(
                "PUT",
                "PUT /playlists/{id}",
                f"playlists/{playlist_id}",
                payload=payload,
                resource=f"playlist {playlist_id}",
                expect_body=False,
            )

    def replace_playlist_items(self, playlist_id: str, uris: Sequence[str]) -> str:
        """Set the items (PUT the first 100, POST the rest); the final snapshot id."""
        path = f"playlists/{playlist_id}/items"
        resource = f"playlist {playlist_id}"
        data = self._request(
            "PUT",
            "PUT /playlists/{id}/items",
            path,
            payload={"uris": list(uris[:PLAYLIST_CHUNK])},
            resource=resource,
        )
        snapshot = str(data["snapshot_id"])
        return self.add_playlist_items(playlist_id, uris[PLAYLIST_CHUNK:]) or snapshot

    def add_playlist_items(self, playlist_id: str, uris: Sequence[str]) -> str | None:
        """Append ``uris`` in order, one POST per 100; the final snapshot id (None: none sent)."""
        snapshot: str | None = None
        for start in range(0, len(uris), PLAYLIST_CHUNK):
            data = self._request(
                "POST",
                "POST /playlists/{id}/items",
                f"playlists/{playlist_id}/items",
                payload={"uris": list(uris[start : start + PLAYLIST_CHUNK])},
                resource=f"playlist {playlist_id}",
                idempotent=False,
            )
            snapshot = str(data["snapshot_id"])
        return snapshot

    # --- library ----------------------------------------------------------------------
    def iter_saved_tracks(self) -> Iterator[SavedTrack]:
        """Liked Songs newest first, fetched page by page as the caller iterates."""
        for page in self._pages("GET /me/tracks", "me/tracks", limit=50):
            for entry in page.get("items") or []:
                saved = parse.saved_track(entry)
                if saved is not None:
                    yield saved

    def saved_albums(self, *, offset: int, limit: int = 50) -> Page[AlbumRef]:
        data = self._request(
            "GET", "GET /me/albums", "me/albums", params={"limit": limit, "offset": offset}
        )
        return parse.album_page(data, saved=True)

    def recently_played(self) -> list[PlayHistory]:
        data = self._request(
            "GET",
            "GET /me/player/recently-played",
            "me/player/recently-played",
            params={"limit": 50},
        )
        history = (parse.play_history(entry) for entry in data.get("items") or [])
        return [h for h in history if h is not None]

    def top_tracks(self) -> list[TrackInfo]:
        pages = self._pages("GET /me/top/tracks", "me/top/tracks", limit=50)
        return [t for page in pages for t in parse.track_page(page).items]

    # --- catalogue ----------------------------------------------------------------------
    def artist_albums(
        self, artist_id: str, *, offset: int, limit: int = 10, groups: str = ALBUM_GROUPS
    ) -> Page[AlbumRef]:
        """One page of the discography; Spotify lists it group by group, each newest first."""
        data = self._request(
            "GET",
            "GET /artists/{id}/albums",
            f"artists/{artist_id}/albums",
            params={"limit": limit, "offset": offset, "include_groups": groups},
            resource=f"artist {artist_id}",
        )
        return parse.album_page(data)

    def album_tracks(self, album_id: str) -> list[TrackInfo]:
        """Every track, each with its album filled in (the first 50 come with the album)."""
        data = self._request(
            "GET", "GET /albums/{id}", f"albums/{album_id}", resource=f"album {album_id}"
        )
        ref = parse.album(data)
        first = data.get("tracks") or {}
        raw = list(first.get("items") or [])
        following = parse.next_offset(first)
        if following is not None:
            for page in self._pages(
                "GET /albums/{id}/tracks",
                f"albums/{album_id}/tracks",
                limit=50,
                offset=following,
                resource=f"album {album_id}",
            ):
                raw += page.get("items") or []
        tracks = (parse.track(t, album_ref=ref) for t in raw)
        return [t for t in tracks if t is not None]

    def track(self, track_id: str) -> TrackInfo:
        data = self._request(
            "GET", "GET /tracks/{id}", f"tracks/{track_id}", resource=f"track {track_id}"
        )
        info = parse.track(data)
        if info is None:
            raise SpotifyNotFound(endpoint="GET /tracks/{id}", resource=f"track {track_id}")
        return info

    def _search(self, query: str, kind: str, *, offset: int, limit: int) -> Json:
        """One page of ``GET /search`` for one result type (``track`` or ``album``)."""
        data: Json = self._request(
            "GET",
            "GET /search",
            "search",
            params={"q": query, "type": kind, "limit": limit, "offset": offset},
            resource=f"search {query!r}",
        )
        return data.get(f"{kind}s") or {}

    def search_tracks(self, query: str, *, offset: int, limit: int = 10) -> Page[TrackInfo]:
        return parse.track_page(self._search(query, "track", offset=offset, limit=limit))

    def search_albums(self, query: str, *, offset: int, limit: int = 10) -> Page[AlbumRef]:
        """Albums matching ``query`` (field filters such as ``tag:new`` apply to albums only)."""
        return parse.album_page(self._search(query, "album", offset=offset, limit=limit))

    def audio_features(self, track_ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Features per id (None: Spotify has none); 403 for apps without extended quota."""
        found: dict[str, dict[str, Any] | None] = {t: None for t in track_ids}
        ids = list(dict.fromkeys(track_ids))
        for start in range(0, len(ids), FEATURES_CHUNK):
            chunk = ids[start : start + FEATURES_CHUNK]
            data = self._request(
                "GET",
                "GET /audio-features",
                "audio-features",
                params={"ids": ",".join(chunk)},
                resource="audio features (closed to new apps since Nov 2024)",
            )
            for entry in data.get("audio_features") or []:
                if entry and entry.get("id") in found:
                    found[entry["id"]] = entry
        return found

    def audio_analysis(self, track_id: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = self._request(
                "GET",
                "GET /audio-analysis/{id}",
                f"audio-analysis/{track_id}",
                resource="audio analysis (closed to new apps since Nov 2024)",
            )
        except SpotifyNotFound:
            return None
        return data


def _token_detail(err: spotipy.SpotifyOauthError) -> str:
    """Spotify's error code and its description (e.g. "invalid_grant: Refresh token expired")."""
    description = getattr(err, "error_description", None)
    return f"{err.error}: {description}" if description else str(err.error)


def _token_refusal(err: spotipy.SpotifyOauthError, endpoint: str) -> SpotifyError | None:
    """A token-endpoint error that no retry fixes, or None (transient: retry).

    ``invalid_grant``: the login was revoked or is older than Spotify's 6-month
    refresh-token lifetime; ``invalid_client``: the app's id or secret is wrong.
    """
    if err.error == "invalid_grant":
        return SpotifyAuthRevoked(endpoint=endpoint, detail=_token_detail(err))
    if err.error in ("invalid_client", "unauthorized_client"):
        return SpotifyClientRejected(endpoint=endpoint, detail=_token_detail(err))
    return None


class _Unreadable(Exception):
    """spotipy returns None when a 2xx body is not JSON; we treat that as a failure."""
