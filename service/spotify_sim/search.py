"""Search as Spotify documents it: free words plus field filters, per result type.

The rules, from the Web API reference of ``GET /search`` (the ``q``
parameter in ``/work/shared/spotify/fixed-spotify-open-api.yml``):

- field filters ``album``, ``artist``, ``track``, ``year``, ``upc``,
  ``tag:hipster``, ``tag:new``, ``isrc`` and ``genre``; each applies only to
  certain result types: ``artist`` and ``year`` to albums, artists and
  tracks; ``album`` to albums and tracks; ``isrc`` and ``track`` to tracks;
  ``upc``, ``tag:new`` and ``tag:hipster`` to albums only;
- ``year`` is one year or a range (``1955-1960``);
- ``tag:new`` returns albums released in the past two weeks;
- ``limit`` 1-10 (default 5) and ``offset`` 0-1000, both refused with 400
  beyond (checked from the spec in :mod:`service.spotify_sim.request_rules`;
  the 10-item cap is Spotify's February 2026 change).

A filter given for a type it does not apply to matches nothing of that type
(Spotify does not promise what it does; a client must not rely on it), and
only the first 1,000 hits can be reached, so a page never reaches past them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from service.spotify_sim.state import SimAlbum, SimState, SimTrack

NEW_WINDOW = timedelta(days=14)
"""``tag:new``: "albums released in the past two weeks"."""
REACHABLE = 1000
"""Search offset cap: no hit past the 1,000th can be asked for."""
FIELDS = {"album", "artist", "track", "year", "upc", "tag", "isrc", "genre"}
ALBUM_ONLY = {"upc", "tag"}
TRACK_ONLY = {"isrc", "track"}

_TERM = re.compile(r'(?:(\w+):)?(?:"([^"]*)"|(\S+))')


class QueryError(ValueError):
    """A query the local Spotify cannot answer (Spotify: 400)."""


@dataclass
class Query:
    """A parsed ``q``: free words and the field filters, all lower case."""

    words: list[str] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)

    def applies_to(self, kind: str) -> bool:
        """False if a filter names a field that does not apply to results of ``kind``."""
        others = TRACK_ONLY if kind == "album" else ALBUM_ONLY
        return not others & self.filters.keys()


def parse(q: str) -> Query:
    """``Bach artist:"Angela Hewitt" year:2020-2026 tag:new`` into words and filters."""
    query = Query()
    for match in _TERM.finditer(q):
        name, quoted, bare = match.groups()
        value = (quoted if quoted is not None else bare).lower()
        if name is not None and name.lower() in FIELDS:
            query.filters.setdefault(name.lower(), []).append(value)
        elif value:
            query.words += ((f"{name}:" if name else "") + value).split()
    if not query.words and not query.filters:
        raise QueryError("No search query")
    return query


def year_range(value: str) -> tuple[int, int]:
    """``2020`` or ``2018-2020`` (Spotify's single year or range) as inclusive bounds."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", value)
    if match is None:
        raise QueryError(f"Invalid year filter {value!r}")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    return min(low, high), max(low, high)


def _released(album: SimAlbum) -> date:
    """An album's release date; a year or year-month release counts from its first day."""
    parts = [int(p) for p in album.release_date.split("-")]
    while len(parts) < 3:
        parts.append(1)
    return date(parts[0], parts[1], parts[2])


def _contains(text: str, value: str) -> bool:
    return all(word in text for word in value.split())


class Searcher:
    """Answers one parsed query over one state, as of ``today`` (for ``tag:new``)."""

    def __init__(self, state: SimState, query: Query, today: date) -> None:
        self.state = state
        self.query = query
        self.today = today
        self.years = [year_range(v) for v in query.filters.get("year", [])]
        for tag in query.filters.get("tag", []):
            if tag not in ("new", "hipster"):
                raise QueryError(f"Invalid tag filter {tag!r}")

    def _artists(self, ids: list[str]) -> str:
        return " ".join(self.state.artists[a].name for a in ids).lower()

    def album_matches(self, album: SimAlbum) -> bool:
        f = self.query.filters
        artists = self._artists(album.artist_ids)
        released = _released(album)
        checks = [
            all(_contains(artists, v) for v in f.get("artist", [])),
            all(_contains(album.name.lower(), v) for v in f.get("album", [])),
            all(low <= released.year <= high for low, high in self.years),
            all(v == (album.upc or album.id[:12]).lower() for v in f.get("upc", [])),
            "new" not in f.get("tag", []) or self.today - NEW_WINDOW <= released <= self.today,
            not f.get("genre"),  # albums carry no genre filter
        ]
        return all(checks)

    def track_matches(self, track: SimTrack) -> bool:
        f = self.query.filters
        album = self.state.albums[track.album_id]
        artists = self._artists(track.artist_ids)
        released = _released(album)
        checks = [
            all(_contains(artists, v) for v in f.get("artist", [])),
            all(_contains(album.name.lower(), v) for v in f.get("album", [])),
            all(_contains(track.name.lower(), v) for v in f.get("track", [])),
            all(low <= released.year <= high for low, high in self.years),
            all(v == (track.isrc or "").lower() for v in f.get("isrc", [])),
            not f.get("genre"),  # the local catalogue has no genres
        ]
        return all(checks)

    def _free(self, *texts: str) -> bool:
        text = " ".join(texts).lower()
        return all(word in text for word in self.query.words)

    def albums(self) -> Iterator[SimAlbum]:
        if not self.query.applies_to("album"):
            return
        for album in sorted(self.state.albums.values(), key=lambda a: a.id):
            names = (album.name, self._artists(album.artist_ids))
            if self._free(*names) and self.album_matches(album):
                yield album

    def tracks(self) -> Iterator[SimTrack]:
        if not self.query.applies_to("track"):
            return
        for track_id in sorted(self.state.tracks):
            track = self.state.tracks[track_id]
            album = self.state.albums[track.album_id]
            names = (track.name, album.name, self._artists(track.artist_ids))
            if self._free(*names) and self.track_matches(track):
                yield track
