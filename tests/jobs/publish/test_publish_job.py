"""Publishing "Predicted favourites" against the local Spotify, counting its calls."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from jobs.playlist_plan import PLAYLIST_MARKER
from service.store.app_state import (
    BOT_PLAYLIST,
    PENDING_PUBLICATION,
    PLAYLIST_RECREATED,
    TO_RATE_PLAYLIST,
    TO_RATE_RECREATED,
    PendingPublication,
)
from service.store.tables import Publication, Rating
from tests.jobs.publish.conftest import Scored
from tests.plugins.spotify_fixtures import LISTENER

Factory = Callable[..., Scored]
WRITES = ("POST /me/playlists", "PUT /playlists/{id}/items", "POST /playlists/{id}/items")


def _writes(scored: Scored) -> int:
    return sum(scored.sim.calls[route] for route in WRITES)


def test_first_publish_creates_one_private_playlist_in_score_order(scored_factory: Factory) -> None:
    scored = scored_factory(30, size=10)
    report = scored.publish()
    assert report.created and report.rewritten
    assert scored.bot_playlists() == [report.playlist_id]
    assert scored.sim.state.playlist_track_ids(report.playlist_id) == scored.track_ids[:10]
    playlist = scored.sim.state.playlists[report.playlist_id]
    assert playlist.public is False
    assert (playlist.description or "").startswith(PLAYLIST_MARKER)
    assert "m1" in (playlist.description or "")


def test_unchanged_list_after_sync_costs_no_publish_call(scored_factory: Factory) -> None:
    scored = scored_factory(30, size=10)
    scored.publish()
    scored.sync_then_publish()  # sync now records the new snapshot
    scored.sim.reset_calls()
    with scored.sessions() as session:
        from jobs.publish import publish_playlist
        from tests.jobs.publish.conftest import NOW

        publish_playlist(
            session=session, spotify=scored.gateway, settings=scored.settings, now=NOW,
            listing_fresh=True,
        )  # fmt: skip
        session.commit()
    assert sum(scored.sim.calls.values()) == 0
    assert len(scored.bot_playlists()) == 1


def test_sync_right_after_creation_does_not_duplicate_the_playlist(scored_factory: Factory) -> None:
    scored = scored_factory(12, size=5)
    for _ in range(3):
        scored.sync_then_publish()
    assert len(scored.bot_playlists()) == 1


def test_hand_removal_becomes_low_rating_before_the_list_is_replaced(
    scored_factory: Factory,
) -> None:
    scored = scored_factory(30, size=10)
    first = scored.publish()
    removed = scored.track_ids[3]
    scored.sim.state.remove_from_playlist(first.playlist_id, removed)
    report = scored.sync_then_publish()
    assert report.removals == [removed]
    with scored.sessions() as session:
        rating = session.scalars(select(Rating).where(Rating.track_id == removed)).one()
        assert (rating.source, rating.value) == ("removal", scored.settings.removal_rating)
    items = scored.sim.state.playlist_track_ids(first.playlist_id)
    assert removed not in items
    assert items == [t for t in scored.track_ids if t != removed][:10]


def test_deleted_playlist_is_recreated_once_and_noted(scored_factory: Factory) -> None:
    scored = scored_factory(20, size=5)
    first = scored.publish()
    scored.sim.state.users[LISTENER].followed_playlists.remove(first.playlist_id)
    report = scored.sync_then_publish()
    assert report.recreated and report.playlist_id != first.playlist_id
    again = scored.sync_then_publish()
    assert not again.recreated and again.playlist_id == report.playlist_id
    listed = [
        p for p in scored.sim.state.users[LISTENER].followed_playlists
        if p in scored.bot_playlists()
    ]  # fmt: skip
    assert listed == [report.playlist_id]
    with scored.sessions() as session:
        assert "recreated" in (PLAYLIST_RECREATED.get(session) or "")


def test_playlist_created_before_a_crash_is_adopted_not_duplicated(
    scored_factory: Factory,
) -> None:
    scored = scored_factory(20, size=5)
    first = scored.publish()
    with scored.sessions() as session:  # as if the id had never been committed
        BOT_PLAYLIST.clear(session)
        session.query(Publication).delete()
        session.commit()
    report = scored.publish()
    assert not report.created and report.playlist_id == first.playlist_id
    assert scored.bot_playlists() == [first.playlist_id]


def test_long_list_is_written_in_fewest_calls(scored_factory: Factory) -> None:
    scored = scored_factory(250, size=250)
    scored.publish()
    assert scored.sim.calls["PUT /playlists/{id}/items"] == 1
    assert scored.sim.calls["POST /playlists/{id}/items"] == 2
    playlist_id = scored.bot_playlists()[0]
    assert scored.sim.state.playlist_track_ids(playlist_id) == scored.track_ids


def test_cap_per_work_applies(scored_factory: Factory) -> None:
    scored = scored_factory(30, size=10, works=3)
    report = scored.publish()
    assert report.published == 6  # three works, two recordings each


def test_interrupted_write_is_not_read_as_user_removals(scored_factory: Factory) -> None:
    scored = scored_factory(30, size=10)
    first = scored.publish()
    # A previous run recorded its plan, then died after writing part of it.
    with scored.sessions() as session:
        PENDING_PUBLICATION.put(session, PendingPublication(first.playlist_id, ()))
        session.commit()
    for track_id in scored.track_ids[5:10]:
        scored.sim.state.remove_from_playlist(first.playlist_id, track_id)
    report = scored.sync_then_publish()
    assert report.removals == []
    assert scored.sim.state.playlist_track_ids(first.playlist_id) == scored.track_ids[:10]
    with scored.sessions() as session:
        assert session.scalars(select(Rating)).all() == []
        assert PENDING_PUBLICATION.get(session) is None


def test_without_a_model_in_use_the_playlist_is_left_as_it_is(scored_factory: Factory) -> None:
    """After the upgrade to probability scores no model is in use until the next
    retrain; publishing must not empty the listener's playlist meanwhile."""
    from service.store.tables import ModelVersion

    scored = scored_factory(30, size=10)
    first = scored.publish()
    with scored.sessions() as session:
        for version in session.scalars(select(ModelVersion)):
            version.promoted = False
        session.commit()
    scored.sim.reset_calls()
    report = scored.publish()
    assert report.model_version is None and not report.rewritten
    assert scored.sim.state.playlist_track_ids(first.playlist_id) == scored.track_ids[:10]
    assert _writes(scored) == 0


def test_one_shot_publish_sees_a_deleted_playlist_in_the_listing(scored_factory: Factory) -> None:
    """`bachbot publish` without a sync before it: a deleted (unfollowed) playlist
    still answers 200 by id, so only the listing shows it is gone; both bot
    playlists are checked the same way."""
    scored = scored_factory(20, size=5)
    first = scored.publish()
    followed = scored.sim.state.users[LISTENER].followed_playlists
    with scored.sessions() as session:
        to_rate = TO_RATE_PLAYLIST.get(session)
    assert to_rate is not None
    followed.remove(first.playlist_id)
    followed.remove(to_rate)
    report = scored.publish()  # listing_fresh=False, as the one-shot command runs it
    assert report.recreated and report.playlist_id != first.playlist_id
    assert report.to_rate_playlist_id not in (None, to_rate)
    with scored.sessions() as session:
        assert "recreated" in (TO_RATE_RECREATED.get(session) or "")
    assert sorted(p for p in followed if p in scored.bot_playlists()) == [report.playlist_id]


@pytest.mark.parametrize(
    ("taste_of", "ending"),
    [("m1", "Your taste so far: minor key."), ("m0", "Remove a track to tell it you don't.")],
    ids=["model-in-use", "older-model-never-shown"],
)
def test_description_says_what_the_model_in_use_learned(
    scored_factory: Factory, taste_of: str, ending: str
) -> None:
    from service.store.app_state import TASTE, TasteSummary

    scored = scored_factory(12, size=5)
    with scored.sessions() as session:
        TASTE.put(session, TasteSummary(taste_of, ({"text": "minor key", "effect": 0.3},)))
        session.commit()
    report = scored.publish()
    description = scored.sim.state.playlists[report.playlist_id].description or ""
    assert description.startswith(PLAYLIST_MARKER)
    assert description.endswith(ending) and len(description) <= 300
