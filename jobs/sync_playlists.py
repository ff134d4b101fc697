"""Candidate source 1: the user's playlists, read only when they changed.

Since 2026 Spotify lets an app read the items of a playlist only when the user
owns it or collaborates on it (an app with extended quota may still read
others).  So every listed playlist is read once its snapshot id changes; one
that Spotify refuses is recorded as unreadable with what the user can do, and
asked about again only every ``unreadable_recheck_hours``.  The bot's own
"Predicted favourites" is not a source: the publish job reads it.

A cycle where nothing changed costs exactly the ``/me/playlists`` pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from jobs.spotify_to_store import listed_playlist
from jobs.sync_context import SyncContext
from service.spotify.errors import SpotifyNotFound, SpotifyRestricted
from service.spotify.types import PlaylistInfo
from service.store.app_state import OTHERS_PLAYLISTS_REFUSED_AT, USER_ID
from service.store.playlists import (
    StoredItem,
    forget_unfollowed,
    mark_unreadable,
    store_items,
    unreadable_playlists,
    upsert_playlist,
)
from service.store.tables import Playlist


class Step(StrEnum):
    """What to do with one listed playlist this cycle."""

    SKIP_BOT = "skip_bot"
    UNCHANGED = "unchanged"
    WAIT = "wait"
    READ = "read"


def read_step(
    *,
    is_bot: bool,
    snapshot_id: str,
    stored: Playlist | None,
    now: datetime,
    recheck: timedelta,
) -> Step:
    """Whether to read one listed playlist's items this cycle, or why not (pure).

    Read when it is new, its snapshot id moved, or Spotify refused it and the
    re-check is due; the bot's own playlist is never a source.
    """
    if is_bot:
        return Step.SKIP_BOT
    if stored is None:
        return Step.READ
    if not stored.readable:
        checked = stored.last_checked_at
        return Step.WAIT if checked is not None and now - checked < recheck else Step.READ
    if stored.synced_snapshot_id == snapshot_id:
        return Step.UNCHANGED
    return Step.READ


def is_bot_playlist(
    info: PlaylistInfo, *, bot_id: str | None, user_id: str | None, name: str
) -> bool:
    """The bot's own playlist: the stored id, or before the first publish, the user's own
    playlist of that name (a reinstalled bachbot must not learn from its old predictions)."""
    if bot_id is not None:
        return info.id == bot_id
    return info.owner_id == user_id and info.name == name


def unreadable_reason(info: PlaylistInfo, *, recheck_hours: float) -> str:
    """What the user sees in ``bachbot status`` and ``bachbot sync``: cause and next step."""
    owner = info.owner_name or info.owner_id
    return (
        f"owned by {owner}; since 2026 Spotify lets apps read only playlists you own or "
        f"collaborate on. To use its tracks, add them to a playlist you own, or ask {owner} "
        f"to make you a collaborator (bachbot checks again every {recheck_hours:g} h)"
    )


@dataclass(frozen=True)
class UnreadablePlaylist:
    id: str
    name: str
    owner: str | None
    reason: str


@dataclass
class PlaylistsReport:
    listed: int = 0
    read: int = 0
    unchanged: int = 0
    waiting_recheck: int = 0
    items_kept: int = 0
    newly_unreadable: int = 0
    forgotten: list[str] = field(default_factory=list)
    unreadable: list[UnreadablePlaylist] = field(default_factory=list)


def _others_refused_recently(ctx: SyncContext) -> bool:
    refused = OTHERS_PLAYLISTS_REFUSED_AT.get(ctx.session)
    recheck = timedelta(hours=ctx.settings.unreadable_recheck_hours)
    return refused is not None and ctx.now - refused < recheck


def _unreadable(
    ctx: SyncContext, info: PlaylistInfo, row: Playlist, report: PlaylistsReport
) -> None:
    if row.readable or row.last_checked_at is None:
        report.newly_unreadable += 1
    reason = unreadable_reason(info, recheck_hours=ctx.settings.unreadable_recheck_hours)
    mark_unreadable(session=ctx.session, playlist=row, reason=reason, now=ctx.now)


def current_user_id(ctx: SyncContext) -> str:
    """The account's id, asked once and then remembered (it decides "owned")."""
    cached = USER_ID.get(ctx.session)
    if cached:
        return str(cached)
    user_id = ctx.spotify.me().id
    USER_ID.put(ctx.session, user_id)
    return user_id


def sync_playlists(ctx: SyncContext) -> PlaylistsReport:
    """Read every changed playlist the app may read; record the ones it may not."""
    report = PlaylistsReport()
    listed = ctx.spotify.my_playlists()
    report.listed = len(listed)
    bots = ctx.bot_playlists
    user_id = current_user_id(ctx) if listed else None
    recheck = timedelta(hours=ctx.settings.unreadable_recheck_hours)
    for info in {p.id: p for p in listed}.values():
        stored = ctx.session.get(Playlist, info.id)
        step = read_step(
            is_bot=any(
                is_bot_playlist(info, bot_id=bot_id, user_id=user_id, name=name)
                for bot_id, name in bots
            ),
            snapshot_id=info.snapshot_id,
            stored=stored,
            now=ctx.now,
            recheck=recheck,
        )
        row = upsert_playlist(
            session=ctx.session,
            playlist=listed_playlist(info),
            owned=info.owner_id == user_id,
            is_bot=step is Step.SKIP_BOT,
        )
        if step is Step.UNCHANGED:
            report.unchanged += 1
        elif step is Step.WAIT:
            report.waiting_recheck += 1
        elif step is Step.READ:
            _read(ctx, info, row, report)
    report.forgotten = forget_unfollowed(session=ctx.session, followed_ids=[p.id for p in listed])
    report.unreadable = [
        UnreadablePlaylist(p.id, p.name, p.owner_name or p.owner_id, p.unreadable_reason or "")
        for p in unreadable_playlists(session=ctx.session)
    ]
    return report


def _read(ctx: SyncContext, info: PlaylistInfo, row: Playlist, report: PlaylistsReport) -> None:
    someone_elses = not row.owned and not info.collaborative
    if someone_elses and _others_refused_recently(ctx):
        _unreadable(ctx, info, row, report)  # the rule is per app: no need to ask again
        return
    try:
        items = ctx.spotify.playlist_items(info.id, name=info.name)
    except SpotifyRestricted:
        if someone_elses:
            OTHERS_PLAYLISTS_REFUSED_AT.put(ctx.session, ctx.now)
        _unreadable(ctx, info, row, report)
        return
    except SpotifyNotFound:
        return  # deleted between listing and reading; the next listing drops it
    listed = [item for item in items if item.track is not None]
    keep = ctx.keep_tracks([i.track for i in listed if i.track], source=f"playlist:{info.id}")
    kept = [
        StoredItem(item.position, item.track.id, item.added_at)
        for item, stored in zip(listed, keep, strict=True)
        if item.track is not None and stored
    ]
    store_items(
        session=ctx.session, playlist=row, items=kept, snapshot_id=info.snapshot_id, now=ctx.now
    )
    report.read += 1
    report.items_kept += len(kept)
