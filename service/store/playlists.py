"""The user's playlists as last seen, their (Bach) items, and which ones bachbot cannot read.

A playlist row remembers two snapshot ids: the one last listed in
``/me/playlists`` and the one whose items are stored, so the sync can tell
"unchanged, nothing to fetch" without a call.  The sync hands over a
:class:`ListedPlaylist`, the store's own plain value (see
:mod:`jobs.spotify_to_store`), so the store needs no gateway code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.store.tables import Playlist, PlaylistTrack


@dataclass(frozen=True)
class ListedPlaylist:
    """One playlist as ``/me/playlists`` lists it now."""

    id: str
    name: str
    owner_id: str
    owner_name: str | None
    snapshot_id: str
    """The version listed, not necessarily the one whose items are stored."""
    collaborative: bool


@dataclass(frozen=True)
class StoredItem:
    """One stored playlist entry."""

    position: int
    track_id: str
    added_at: datetime | None


def upsert_playlist(
    *, session: Session, playlist: ListedPlaylist, owned: bool, is_bot: bool
) -> Playlist:
    """Record a playlist as listed now (name, owner, snapshot); readability is kept."""
    row = session.get(Playlist, playlist.id)
    if row is None:
        row = Playlist(id=playlist.id, readable=True, synced_snapshot_id=None)
        session.add(row)
    row.name = playlist.name
    row.owner_id = playlist.owner_id
    row.owner_name = playlist.owner_name
    row.snapshot_id = playlist.snapshot_id
    row.owned = owned
    row.collaborative = playlist.collaborative
    row.followed = True
    row.is_bot_playlist = is_bot
    session.flush()
    return row


def store_items(
    *,
    session: Session,
    playlist: Playlist,
    items: Sequence[StoredItem],
    snapshot_id: str,
    now: datetime,
) -> None:
    """Replace the stored items with ``items`` read at ``snapshot_id``; marks it readable."""
    session.execute(delete(PlaylistTrack).where(PlaylistTrack.playlist_id == playlist.id))
    session.add_all(
        PlaylistTrack(
            playlist_id=playlist.id,
            position=item.position,
            track_id=item.track_id,
            added_at=item.added_at,
        )
        for item in items
    )
    playlist.synced_snapshot_id = snapshot_id
    playlist.readable = True
    playlist.unreadable_reason = None
    playlist.last_synced_at = now
    playlist.last_checked_at = now
    session.flush()


def mark_unreadable(*, session: Session, playlist: Playlist, reason: str, now: datetime) -> None:
    """Spotify refused its items: keep why, and when we last asked."""
    playlist.readable = False
    playlist.unreadable_reason = reason
    playlist.last_checked_at = now
    session.flush()


def forget_unfollowed(*, session: Session, followed_ids: Iterable[str]) -> list[str]:
    """Delete the playlists (and stored items) the user no longer has; their names.

    The tracks stay in the catalogue and their ratings stay; only the membership
    and the "cannot read" notice go, since the user dropped the playlist.
    """
    keep = set(followed_ids)
    gone = [p for p in session.scalars(select(Playlist)) if p.id not in keep]
    for playlist in gone:
        session.execute(delete(PlaylistTrack).where(PlaylistTrack.playlist_id == playlist.id))
        session.delete(playlist)
    session.flush()
    return [p.name for p in gone]


def playlist_track_ids(*, session: Session, playlist_id: str) -> list[str]:
    """Stored items of one playlist in order."""
    return list(
        session.scalars(
            select(PlaylistTrack.track_id)
            .where(PlaylistTrack.playlist_id == playlist_id)
            .order_by(PlaylistTrack.position)
        )
    )


def unreadable_playlists(*, session: Session) -> list[Playlist]:
    return list(
        session.scalars(
            select(Playlist).where(Playlist.readable.is_(False)).order_by(Playlist.name)
        )
    )
