"""Listening signals: recently played (every cycle) and top tracks (every ``top_tracks_hours``).

Stored as exposure events (``Listen`` rows) for Bach tracks only.  Spotify
keeps just the last 50 plays, so recently played is read each cycle; a
missing scope or a closed endpoint (403) skips that signal and says so,
since these signals only refine what likes and ratings already say.
Optionally (``exposure_negative``, off by default) a published track heard
``exposure_plays`` times and never rated becomes a weak negative rating.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from jobs.ratings import record_exposures
from jobs.sync_context import SyncContext
from service.spotify.errors import SpotifyRestricted
from service.store.app_state import TOP_TRACKS_AT
from service.store.listens import add_listen


@dataclass
class ListensReport:
    plays_seen: int = 0
    listens_added: int = 0
    top_read: bool = False
    top_added: int = 0
    exposure_ratings: int = 0
    unavailable: list[str] = field(default_factory=list)
    """Signals Spotify refused, with its reason."""


def sync_listens(ctx: SyncContext) -> ListensReport:
    report = ListensReport()
    history = []
    # Recent plays feed only the exposure signal; off (the default), a quiet
    # cycle should not spend a call on them.
    if ctx.settings.exposure_negative:
        try:
            history = ctx.spotify.recently_played()
        except SpotifyRestricted as err:
            report.unavailable.append(f"recently played: {err}")
    report.plays_seen = len(history)
    for play in history:
        if ctx.keep_track(play.track, source="recently_played"):
            report.listens_added += add_listen(
                session=ctx.session,
                track_id=play.track.id,
                played_at=play.played_at,
                source="recent",
            )
    last = TOP_TRACKS_AT.get(ctx.session)
    every = timedelta(hours=ctx.settings.top_tracks_hours)
    if last is None or ctx.now - last >= every:
        _top_tracks(ctx, report)
    if ctx.settings.exposure_negative:
        report.exposure_ratings = len(
            record_exposures(session=ctx.session, settings=ctx.settings, now=ctx.now)
        )
    return report


def _top_tracks(ctx: SyncContext, report: ListensReport) -> None:
    """Read top tracks; a refusal also counts as checked, so it is not asked every cycle."""
    TOP_TRACKS_AT.put(ctx.session, ctx.now)
    try:
        top = ctx.spotify.top_tracks()
    except SpotifyRestricted as err:
        report.unavailable.append(f"top tracks: {err}")
        return
    report.top_read = True
    for info in top:
        if ctx.keep_track(info, source="top_tracks"):
            report.top_added += add_listen(
                session=ctx.session, track_id=info.id, played_at=ctx.now, source="top"
            )
