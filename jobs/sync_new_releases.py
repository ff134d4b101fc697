"""New recordings first: the new-release probe and a first sync's newest releases.

The mission is new recordings, but Spotify's J. S. Bach appears on tens of
thousands of albums and a complete walk of his discography at 10 albums a
page takes thousands of calls.  Two things put the newest first:

- **The probe** (each cycle, or every ``new_release_probe_hours``) asks
  search for the composer's albums released in the past two weeks
  (``tag:new artist:"..."``; Spotify documents ``tag:new`` as "albums
  released in the past two weeks", for album searches only).  If that finds
  nothing - ``tag:new`` has been known to come back empty - it asks for the
  composer's albums of the current year (``year:``, a range across New
  Year) and keeps those released in the window.  The albums found are read
  before anything else in the catalogue walk.
- **The newest releases of a first sync**: Spotify lists an artist's albums
  group by group (albums, singles, compilations, appears_on), each newest
  first, so the newest ``newest_first_releases`` of any kind are among the
  first that many of each group.  A first sync lists those heads (one short
  walk per group) and reads the newest that many, whatever the size of the
  library, before the full walk starts.

Every request counts against the cycle's call budget, and search's rules are
kept: at most 10 items a page, never an offset past 1,000.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from jobs.spotify_to_store import album_facts
from jobs.sync_context import CallBudget, SyncContext
from service.spotify.errors import SpotifyNotFound
from service.spotify.types import AlbumRef, Page
from service.store.app_state import NEW_RELEASES_AT, NEWEST_READ
from service.store.tracks import upsert_album

NEW_WINDOW = timedelta(days=14)
SEARCH_PAGE = 10
SEARCH_OFFSET_CAP = 1000
"""Spotify refuses a search ``offset`` past 1,000 (400)."""
GROUPS = ("album", "single", "compilation", "appears_on")
NEW_SOURCE = "new"
"""``found_via`` of an album the probe found."""


@dataclass
class NewReleasesReport:
    probed: bool = False
    found: int = 0
    """Albums released in the window that the probe saw (new to bachbot or not)."""
    album_ids: list[str] = field(default_factory=list)
    """Albums to read first this cycle, newest first."""


def released_on(value: str | None) -> date | None:
    """Spotify's release date (``2026``, ``2026-11`` or ``2026-11-20``) as its first day."""
    if not value:
        return None
    try:
        parts = [int(p) for p in value.split("-")]
        month, day = [*parts[1:], 1, 1][:2]
        return date(parts[0], month, day)
    except (ValueError, TypeError):
        return None


def is_new(album: AlbumRef, today: date) -> bool:
    released = released_on(album.release_date)
    return released is not None and today - NEW_WINDOW <= released <= today


def probe_queries(name: str, today: date) -> tuple[str, str]:
    """The ``tag:new`` query and its ``year:`` fallback for one composer."""
    start = (today - NEW_WINDOW).year
    years = str(today.year) if start == today.year else f"{start}-{today.year}"
    return f'tag:new artist:"{name}"', f'artist:"{name}" year:{years}'


def probe_due(ctx: SyncContext) -> bool:
    last = NEW_RELEASES_AT.get(ctx.session)
    every = timedelta(hours=ctx.settings.new_release_probe_hours)
    return last is None or ctx.now - last >= every


def probe_new_releases(ctx: SyncContext, budget: CallBudget) -> NewReleasesReport:
    """Search each composer's albums of the past two weeks; store them, newest first."""
    report = NewReleasesReport()
    if not probe_due(ctx) or not budget.allows():
        return report
    report.probed = True
    today = ctx.now.date()
    found: dict[str, AlbumRef] = {}
    for name in ctx.settings.composer_names:
        tagged, by_year = probe_queries(name, today)
        albums = _search(ctx, budget, tagged)
        if not albums:
            albums = [a for a in _search(ctx, budget, by_year) if is_new(a, today)]
        for album in albums:
            found.setdefault(album.id, album)
    for album in found.values():
        facts = album_facts(album)
        upsert_album(session=ctx.session, album=facts, found_via=NEW_SOURCE, now=ctx.now)
    report.found = len(found)
    report.album_ids = newest_first(list(found.values()))
    NEW_RELEASES_AT.put(ctx.session, ctx.now)
    return report


def _search(ctx: SyncContext, budget: CallBudget, query: str) -> list[AlbumRef]:
    """Every page of an album search, within the budget, the page limit and the offset cap."""

    def fetch(offset: int) -> Page[AlbumRef]:
        return ctx.spotify.search_albums(query, offset=offset, limit=SEARCH_PAGE)

    return _head(fetch, budget, pages=ctx.settings.new_release_pages, cap=SEARCH_OFFSET_CAP)


def _head(
    fetch: Callable[[int], Page[AlbumRef]], budget: CallBudget, *, pages: int, cap: int | None
) -> list[AlbumRef]:
    """The first ``pages`` pages of a listing (fewer if it ends or the budget does)."""
    albums: list[AlbumRef] = []
    offset = 0
    for _ in range(pages):
        if not budget.allows() or (cap is not None and offset > cap):
            break
        page = fetch(offset)
        albums += page.items
        if page.next_offset is None or not page.items:
            break
        offset = page.offset + len(page.items)
    return albums


def newest_first(albums: list[AlbumRef]) -> list[str]:
    """Album ids, the most recent release first (unknown dates last)."""
    ordered = sorted(
        albums, key=lambda a: (released_on(a.release_date) or date.min, a.id), reverse=True
    )
    return [a.id for a in ordered]


def newest_releases(ctx: SyncContext, budget: CallBudget) -> list[str]:
    """On a composer's first sync, list the head of each album group; the newest N ids.

    Marked per composer once listed, so it runs once; the albums are stored
    (``found_via`` the artist walk) and the caller reads the returned ones
    first, newest first.
    """
    wanted = ctx.settings.newest_first_releases
    done = dict(NEWEST_READ.get(ctx.session) or {})
    chosen: list[str] = []
    for artist_id in ctx.settings.composer_artist_ids:
        if wanted == 0 or artist_id in done:
            continue
        pages = math.ceil(wanted / SEARCH_PAGE)
        heads: list[AlbumRef] = []
        try:
            for group in GROUPS:
                heads += _group_head(ctx, budget, artist_id, group, pages)
        except SpotifyNotFound:
            done[artist_id] = ctx.now.isoformat()  # a mistyped id: the full walk reports it
            continue
        if not budget.allows():
            continue  # cut short: list the heads again next cycle
        newest = newest_first(heads)[:wanted]
        by_id = {a.id: a for a in heads}
        for album_id in newest:
            upsert_album(
                session=ctx.session,
                album=album_facts(by_id[album_id]),
                found_via=f"artist:{artist_id}",
                now=ctx.now,
            )
        chosen += newest
        done[artist_id] = ctx.now.isoformat()
    NEWEST_READ.put(ctx.session, done)
    return chosen


def _group_head(
    ctx: SyncContext, budget: CallBudget, artist_id: str, group: str, pages: int
) -> list[AlbumRef]:
    def fetch(offset: int) -> Page[AlbumRef]:
        return ctx.spotify.artist_albums(artist_id, offset=offset, groups=group)

    return _head(fetch, budget, pages=pages, cap=None)
