"""Candidate source 2: the catalogue, walked a little each cycle within a call budget.

New releases come first (:mod:`jobs.sync_new_releases`: a search for the
past two weeks' albums each cycle, and a first sync's newest releases), then
three walks find albums and tracks: the discography of each composer artist
id (``GET /artists/{id}/albums``, 10 a page), the user's saved albums, and the
configured search queries (10 hits a page).  Albums found are read once
(``GET /albums/{id}``, which brings the first 50 tracks), the most recent
release first, and marked with ``tracks_read_at``.  Where each walk stands is
stored (``CatalogueCursor``, and the saved-albums mark), and every request counts against
``calls_per_cycle``, so a first sync of thousands of albums spreads over many
cycles instead of running into Spotify's rate limit.

A finished walk is checked again every ``catalogue_refresh_hours``: one page;
if the total changed or the page holds something new, the walk starts over
(known albums cost only their listing page, never a second read).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from jobs.spotify_to_store import album_facts
from jobs.sync_context import CallBudget, SyncContext
from jobs.sync_new_releases import newest_releases, probe_new_releases
from service.spotify.errors import SpotifyNotFound
from service.spotify.types import AlbumRef, Page, TrackInfo
from service.store.app_state import SAVED_ALBUMS
from service.store.tables import Album, CatalogueCursor
from service.store.tracks import unread_albums, upsert_album

MARK_SIZE = 5
ALBUM_TRACKS_PER_CALL = 50


def album_cost(total_tracks: int | None) -> int:
    """Calls to read one album: the album itself brings 50 tracks, each further 50 one more."""
    extra = max(0, (total_tracks or 0) - ALBUM_TRACKS_PER_CALL)
    return 1 + math.ceil(extra / ALBUM_TRACKS_PER_CALL)


@dataclass
class CatalogueReport:
    calls: int = 0
    budget: int = 0
    walk_finished: bool = False
    """Every walk is through and every found album read (False: more next cycle)."""
    albums_found: int = 0
    albums_read: int = 0
    albums_pending: int = 0
    search_tracks_kept: int = 0
    new_releases: int = 0
    """Albums of the past two weeks the new-release probe saw (0 when it was not due)."""
    new_release_calls: int = 0
    """Calls of the probe: its search pages and the reads of the albums it found."""
    problems: list[str] = field(default_factory=list)


@dataclass
class _Walk:
    """One paged listing with a stored cursor: an artist's albums or a search."""

    key: str
    fetch: Callable[[int], Page[Any]]
    handle: Callable[[Sequence[Any]], int]
    """Stores one page's items; returns how many were new."""


def sync_catalogue(ctx: SyncContext) -> CatalogueReport:
    """Advance every walk and read found albums, until done or out of budget."""
    budget = CallBudget(ctx.spotify.calls, ctx.settings.calls_per_cycle)
    report = CatalogueReport(budget=budget.limit)
    probe = probe_new_releases(ctx, budget)
    _read_first(ctx, budget, report, probe.album_ids)
    report.new_releases, report.new_release_calls = probe.found, budget.spent
    _read_first(ctx, budget, report, newest_releases(ctx, budget))
    _saved_albums(ctx, budget, report)
    _read_pending(ctx, budget, report)
    walks = _walks(ctx, report)
    for walk in walks:
        try:
            while budget.allows() and _step(ctx, walk):
                _read_pending(ctx, budget, report)
        except SpotifyNotFound as err:
            # A mistyped composer id: say so, and ask again only at the next refresh.
            report.problems.append(f"{walk.key}: {err}; check BACHBOT_COMPOSER_ARTIST_IDS")
            cursor = ctx.session.get_one(CatalogueCursor, walk.key)
            cursor.completed_at = ctx.now
    _read_pending(ctx, budget, report)
    report.calls = budget.spent
    report.albums_pending = (
        ctx.session.scalar(
            select(func.count()).select_from(Album).where(Album.tracks_read_at.is_(None))
        )
        or 0
    )
    cursors = [ctx.session.get(CatalogueCursor, walk.key) for walk in walks]
    saved = SAVED_ALBUMS.get(ctx.session) or {}
    report.walk_finished = (
        report.albums_pending == 0
        and bool(saved.get("done"))
        and all(c is not None and c.completed_at is not None for c in cursors)
    )
    return report


def _walks(ctx: SyncContext, report: CatalogueReport) -> list[_Walk]:
    walks = [_artist_walk(ctx, a, report) for a in ctx.settings.composer_artist_ids]
    return walks + [_search_walk(ctx, q, report) for q in ctx.settings.search_queries]


def _artist_walk(ctx: SyncContext, artist_id: str, report: CatalogueReport) -> _Walk:
    def fetch(offset: int) -> Page[AlbumRef]:
        return ctx.spotify.artist_albums(artist_id, offset=offset)

    def handle(albums: Sequence[AlbumRef]) -> int:
        return _add_albums(ctx, albums, f"artist:{artist_id}", report)

    return _Walk(key=f"artist:{artist_id}", fetch=fetch, handle=handle)


def _search_walk(ctx: SyncContext, query: str, report: CatalogueReport) -> _Walk:
    def fetch(offset: int) -> Page[TrackInfo]:
        return ctx.spotify.search_tracks(query, offset=offset)

    def handle(tracks: Sequence[TrackInfo]) -> int:
        return _add_hits(ctx, tracks, f"search:{query}", report)

    return _Walk(key=f"search:{query}", fetch=fetch, handle=handle)


def _step(ctx: SyncContext, walk: _Walk) -> bool:
    """Read one page of ``walk`` if it has one due; False when it has nothing to do."""
    cursor = ctx.session.get(CatalogueCursor, walk.key)
    if cursor is None:
        cursor = CatalogueCursor(key=walk.key, offset=0, total=None, completed_at=None)
        ctx.session.add(cursor)
        ctx.session.flush()
    if cursor.completed_at is not None:
        refresh = timedelta(hours=ctx.settings.catalogue_refresh_hours)
        if ctx.now - cursor.completed_at < refresh:
            return False
        page = walk.fetch(0)
        new = walk.handle(page.items)
        if new == 0 and page.total == cursor.total:
            cursor.completed_at = ctx.now
            return False
        cursor.completed_at = None
    else:
        page = walk.fetch(cursor.offset)
        walk.handle(page.items)
    cursor.total = page.total
    cursor.offset = page.offset + len(page.items)
    if page.next_offset is None or not page.items:
        cursor.completed_at = ctx.now
    ctx.session.flush()
    return cursor.completed_at is None


def _add_albums(
    ctx: SyncContext, albums: Sequence[AlbumRef], found_via: str, report: CatalogueReport
) -> int:
    new = 0
    for ref in albums:
        _, created = upsert_album(
            session=ctx.session, album=album_facts(ref), found_via=found_via, now=ctx.now
        )
        new += created
    report.albums_found += new
    return new


def _add_hits(
    ctx: SyncContext, tracks: Sequence[TrackInfo], found_via: str, report: CatalogueReport
) -> int:
    """Keep Bach hits, and queue their albums so the rest of each recording is found too."""
    before = len(ctx.new_track_ids)
    bach_albums: list[AlbumRef] = []
    for info in tracks:
        if ctx.keep_track(info, source=found_via):
            report.search_tracks_kept += 1
            if info.album is not None:
                bach_albums.append(info.album)
    return (len(ctx.new_track_ids) - before) + _add_albums(ctx, bach_albums, found_via, report)


def _saved_albums(ctx: SyncContext, budget: CallBudget, report: CatalogueReport) -> None:
    """The user's saved albums, newest first: all once, then only those above the mark."""
    state: dict[str, Any] = dict(
        SAVED_ALBUMS.get(ctx.session) or {"done": False, "offset": 0, "mark": [], "next_mark": []}
    )
    checked = state.get("checked_at")
    refresh = timedelta(hours=ctx.settings.catalogue_refresh_hours)
    if state["done"] and checked and ctx.now - datetime.fromisoformat(checked) < refresh:
        return  # walked, and looked at again recently: no call this cycle
    offset = int(state["offset"]) if not state["done"] else 0
    mark = set(state["mark"]) if state["done"] else set()
    new_mark: list[str] | None = None
    finished = False
    while budget.allows():
        page = ctx.spotify.saved_albums(offset=offset)
        if offset == 0:
            new_mark = [a.id for a in page.items[:MARK_SIZE]]
        fresh = [a for a in page.items if a.id not in mark]
        if len(fresh) < len(page.items):
            fresh = page.items[: next(i for i, a in enumerate(page.items) if a.id in mark)]
            finished = True
        _add_albums(ctx, fresh, "saved", report)
        if finished or page.next_offset is None or not page.items:
            finished = True
            break
        offset = page.offset + len(page.items)
    if state["done"]:
        if finished and new_mark is not None:
            state["mark"] = new_mark or state["mark"]
    elif finished:
        state.update(done=True, offset=0, mark=new_mark or state["next_mark"], next_mark=[])
    else:
        state["offset"] = offset
        if new_mark is not None:
            state["next_mark"] = new_mark
    if state["done"]:
        state["checked_at"] = ctx.now.isoformat()
    SAVED_ALBUMS.put(ctx.session, state)


def _read_first(
    ctx: SyncContext, budget: CallBudget, report: CatalogueReport, album_ids: Sequence[str]
) -> None:
    """Read these albums (new releases, a first sync's newest) before any other."""
    for album_id in album_ids:
        album = ctx.session.get(Album, album_id)
        if album is None or album.tracks_read_at is not None:
            continue
        if not budget.allows(min(album_cost(album.total_tracks), budget.limit)):
            return
        _read_album(ctx, album)
        report.albums_read += 1


def _read_pending(ctx: SyncContext, budget: CallBudget, report: CatalogueReport) -> None:
    """Read found albums' tracks, newest release first, while the budget lasts."""
    while budget.allows():
        batch = unread_albums(session=ctx.session, limit=budget.left)
        if not batch:
            return
        for album in batch:
            cost = min(album_cost(album.total_tracks), budget.limit)
            if not budget.allows(cost):
                return
            _read_album(ctx, album)
            report.albums_read += 1


def _read_album(ctx: SyncContext, album: Album) -> None:
    try:
        tracks = ctx.spotify.album_tracks(album.id)
    except SpotifyNotFound:
        tracks = []  # withdrawn from Spotify: nothing to read, and nothing to retry
    source = album.found_via or f"album:{album.id}"
    for info in tracks:
        ctx.keep_track(info, source=source)
    album.tracks_read_at = ctx.now
    ctx.session.flush()
