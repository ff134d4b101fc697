"""A listed playlist is recorded as listed; what was read of it, and whether it can be, is kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from service.store.playlists import (
    ListedPlaylist,
    StoredItem,
    mark_unreadable,
    playlist_track_ids,
    store_items,
    unreadable_playlists,
    upsert_playlist,
)
from service.store.tables import Track

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LISTED = ListedPlaylist(
    id="p1",
    name="Bach mornings",
    owner_id="curator",
    owner_name="A Curator",
    snapshot_id="s1",
    collaborative=False,
)


def test_listing_a_new_snapshot_keeps_the_items_read_at_the_old_one(session: Session) -> None:
    session.add(Track(id="t1", name="Aria", artists=[], is_bach=True, meta={}))
    row = upsert_playlist(session=session, playlist=LISTED, owned=True, is_bot=False)
    store_items(
        session=session,
        playlist=row,
        items=[StoredItem(0, "t1", None)],
        snapshot_id="s1",
        now=NOW,
    )
    again = upsert_playlist(
        session=session,
        playlist=replace(LISTED, name="Bach evenings", snapshot_id="s2"),
        owned=True,
        is_bot=False,
    )
    assert again is row
    assert (row.name, row.snapshot_id, row.synced_snapshot_id) == ("Bach evenings", "s2", "s1")
    assert playlist_track_ids(session=session, playlist_id="p1") == ["t1"]


def test_listing_an_unreadable_playlist_again_keeps_why(session: Session) -> None:
    row = upsert_playlist(session=session, playlist=LISTED, owned=False, is_bot=False)
    mark_unreadable(session=session, playlist=row, reason="owned by A Curator", now=NOW)
    upsert_playlist(
        session=session, playlist=replace(LISTED, snapshot_id="s2"), owned=False, is_bot=False
    )
    [unreadable] = unreadable_playlists(session=session)
    assert (unreadable.id, unreadable.unreadable_reason) == ("p1", "owned by A Curator")
    assert unreadable.owner_name == "A Curator" and unreadable.last_checked_at == NOW
