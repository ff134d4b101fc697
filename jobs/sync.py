"""The sync job: one cycle over every candidate source, each incremental.

    sync_library(*, session, spotify, settings, now=None) -> SyncReport

Sources run in this order, each a plain function of a :class:`SyncContext`:
playlists (:mod:`jobs.sync_playlists`), Liked Songs (:mod:`jobs.sync_likes`),
listening signals (:mod:`jobs.sync_listens`), then the catalogue walk
(:mod:`jobs.sync_catalogue`), last because it is the one that spends the
call budget.  The job writes in the caller's transaction (see
:func:`service.jobrunner.run_job`): a cycle that fails leaves nothing half
written, and the high-water marks and cursors move only with the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from jobs.sync_catalogue import CatalogueReport, sync_catalogue
from jobs.sync_context import SyncContext
from jobs.sync_likes import LikesReport, sync_likes
from jobs.sync_listens import ListensReport, sync_listens
from jobs.sync_playlists import PlaylistsReport, UnreadablePlaylist, sync_playlists
from service.settings import Settings
from service.spotify.gateway import SpotifyGateway
from service.store.tables import utcnow


@dataclass
class SyncReport:
    """Counts for job_runs, plus the details ``bachbot sync`` prints."""

    new_tracks: int = 0
    new_ratings: int = 0
    new_likes: int = 0
    retracted_likes: int = 0
    likes_full_pass: bool = False
    playlists_listed: int = 0
    playlists_read: int = 0
    playlists_unchanged: int = 0
    listens_added: int = 0
    exposure_ratings: int = 0
    new_releases: int = 0
    new_release_calls: int = 0
    albums_found: int = 0
    albums_read: int = 0
    albums_pending: int = 0
    catalogue_calls: int = 0
    catalogue_finished: bool = False
    spotify_calls: int = 0
    unreadable: list[UnreadablePlaylist] = field(default_factory=list)
    newly_unreadable: int = 0
    unavailable: list[str] = field(default_factory=list)


def compose_report(
    *,
    new_tracks: int,
    spotify_calls: int,
    playlists: PlaylistsReport,
    likes: LikesReport,
    listens: ListensReport,
    catalogue: CatalogueReport,
) -> SyncReport:
    return SyncReport(
        new_tracks=new_tracks,
        new_ratings=likes.new_likes + listens.exposure_ratings,
        new_likes=likes.new_likes,
        retracted_likes=likes.retracted_likes,
        likes_full_pass=likes.full_pass,
        playlists_listed=playlists.listed,
        playlists_read=playlists.read,
        playlists_unchanged=playlists.unchanged,
        listens_added=listens.listens_added + listens.top_added,
        exposure_ratings=listens.exposure_ratings,
        new_releases=catalogue.new_releases,
        new_release_calls=catalogue.new_release_calls,
        albums_found=catalogue.albums_found,
        albums_read=catalogue.albums_read,
        albums_pending=catalogue.albums_pending,
        catalogue_calls=catalogue.calls,
        catalogue_finished=catalogue.walk_finished,
        spotify_calls=spotify_calls,
        unreadable=playlists.unreadable,
        newly_unreadable=playlists.newly_unreadable,
        unavailable=listens.unavailable + catalogue.problems,
    )


def sync_library(
    *,
    session: Session,
    spotify: SpotifyGateway,
    settings: Settings,
    now: datetime | None = None,
) -> SyncReport:
    """Run one sync cycle over every source; see the module docstring."""
    ctx = SyncContext(session=session, spotify=spotify, settings=settings, now=now or utcnow())
    before = spotify.calls.total()
    playlists = sync_playlists(ctx)
    likes = sync_likes(ctx)
    listens = sync_listens(ctx)
    catalogue = sync_catalogue(ctx)
    return compose_report(
        new_tracks=len(ctx.new_track_ids),
        spotify_calls=spotify.calls.total() - before,
        playlists=playlists,
        likes=likes,
        listens=listens,
        catalogue=catalogue,
    )


def render_sync_report(report: SyncReport) -> str:
    """What ``bachbot sync`` prints: what was found, and what could not be read and why."""
    lines = [
        f"new Bach tracks: {report.new_tracks}",
        f"new ratings: {report.new_ratings} ({report.new_likes} from likes"
        + (f", {report.exposure_ratings} from exposure" if report.exposure_ratings else "")
        + ")",
        f"likes withdrawn: {report.retracted_likes}"
        + ("" if report.likes_full_pass else " (checked on the next full pass)"),
        f"playlists: {report.playlists_listed} listed, {report.playlists_read} read, "
        f"{report.playlists_unchanged} unchanged",
        f"catalogue: {report.new_releases} new releases, {report.albums_found} albums found, "
        f"{report.albums_read} read, "
        f"{report.albums_pending} waiting"
        + ("" if report.catalogue_finished else " (continues next cycle)"),
        f"Spotify calls: {report.spotify_calls} ({report.catalogue_calls} for the catalogue)",
    ]
    if report.unreadable:
        lines += ["", "playlists bachbot cannot read:"]
        lines += [f'  "{p.name}" ({p.owner}): {p.reason}' for p in report.unreadable]
    if report.unavailable:
        lines += ["", "what Spotify refused:"]
        lines += [f"  {text}" for text in report.unavailable]
    return "\n".join(lines)
