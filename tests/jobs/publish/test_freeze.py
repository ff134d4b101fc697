"""`bachbot freeze`: one new playlist, the same tracks in order, never touched or read again."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from jobs.freeze import FreezeReport, freeze_due, freeze_playlist
from jobs.playlist_plan import PLAYLIST_MARKER, TO_RATE_MARKER
from service.errors import FreezeRefused
from service.spotify.errors import SpotifyRateLimited
from service.spotify_sim import Fault
from service.store.app_state import BOT_PLAYLIST, LAST_FREEZE, PENDING_FREEZE
from service.store.tables import Prediction, Rating
from tests.jobs.publish.conftest import NOW, Scored
from tests.plugins.spotify_fixtures import LISTENER

Factory = Callable[..., Scored]


def _freeze(scored: Scored, *, name: str | None = None) -> FreezeReport:
    with scored.sessions() as session:
        report = freeze_playlist(
            session=session, spotify=scored.gateway, settings=scored.settings, now=NOW, name=name
        )
        session.commit()
    return report


def test_freeze_copies_the_playlist_in_order_with_a_create_and_one_add_per_100(
    scored_factory: Factory,
) -> None:
    scored = scored_factory(260, size=230)
    published = scored.sync_then_publish()
    before = set(scored.sim.state.playlists)
    scored.sim.reset_calls()
    report = _freeze(scored)
    new = set(scored.sim.state.playlists) - before
    assert new == {report.playlist_id}
    assert dict(scored.sim.calls) == {"POST /me/playlists": 1, "POST /playlists/{id}/items": 3}
    assert report.calls == 4
    original = scored.sim.state.playlist_track_ids(published.playlist_id)
    assert len(original) == 230
    assert scored.sim.state.playlist_track_ids(report.playlist_id) == original
    frozen = scored.sim.state.playlists[report.playlist_id]
    assert frozen.name == f"{scored.settings.playlist_name} 2026-11-25"
    assert frozen.public is False
    assert frozen.owner_id == LISTENER
    description = frozen.description or ""
    assert not description.startswith((PLAYLIST_MARKER, TO_RATE_MARKER))
    assert len(description) <= 300


def test_later_cycles_never_change_the_copy_nor_read_ratings_from_it(
    scored_factory: Factory,
) -> None:
    scored = scored_factory(40, size=10)
    first = scored.sync_then_publish()
    report = _freeze(scored, name="Autumn favourites")
    kept = scored.sim.state.playlist_track_ids(report.playlist_id)
    snapshot = scored.sim.state.playlists[report.playlist_id].snapshot_id
    with scored.sessions() as session:  # the model changes its mind: the whole list turns over
        session.execute(update(Prediction).values(score=Prediction.score * -1.0))
        session.commit()
    scored.sim.state.remove_from_playlist(report.playlist_id, kept[0])  # the listener's edit
    rewritten = scored.sync_then_publish()
    scored.sync_then_publish()
    assert rewritten.rewritten and rewritten.playlist_id == first.playlist_id
    assert scored.sim.state.playlist_track_ids(first.playlist_id) != kept
    assert scored.sim.state.playlist_track_ids(report.playlist_id) == kept[1:]
    assert scored.sim.state.playlists[report.playlist_id].snapshot_id != snapshot  # only by hand
    with scored.sessions() as session:
        assert session.scalars(select(Rating)).all() == []
        assert BOT_PLAYLIST.get(session) == first.playlist_id


def test_a_bachbot_that_lost_its_playlist_id_does_not_adopt_the_copy(
    scored_factory: Factory,
) -> None:
    scored = scored_factory(20, size=5)
    scored.publish()
    report = _freeze(scored)
    scored.sim.state.playlists.pop(scored.bot_playlists()[0])
    with scored.sessions() as session:
        BOT_PLAYLIST.clear(session)
        session.commit()
    again = scored.publish()
    assert again.playlist_id != report.playlist_id
    assert again.created


def test_freeze_refuses_before_anything_was_published(scored_factory: Factory) -> None:
    scored = scored_factory(5, size=5)
    with pytest.raises(FreezeRefused, match="has not been filled yet"):
        _freeze(scored)
    assert scored.sim.calls["POST /me/playlists"] == 0


@pytest.mark.parametrize("name", ["Predicted favourites", "Bach to rate", "   "])
def test_freeze_refuses_a_name_that_would_pass_for_bachbots_own(
    scored_factory: Factory, name: str
) -> None:
    scored = scored_factory(5, size=5)
    scored.publish()
    scored.sim.reset_calls()
    with pytest.raises(FreezeRefused, match="cannot freeze"):
        _freeze(scored, name=name)
    assert sum(scored.sim.calls.values()) == 0


@pytest.mark.parametrize(
    ("last_days_ago", "every", "due"),
    [(None, None, False), (None, 7, True), (6.9, 7, False), (7.0, 7, True), (30, None, False)],
)
def test_scheduled_freeze_is_due_once_per_period(
    last_days_ago: float | None, every: int | None, due: bool
) -> None:
    last = None if last_days_ago is None else NOW - timedelta(days=last_days_ago)
    assert freeze_due(last=last, now=NOW, every_days=every) is due


def test_freeze_records_when_it_ran(scored_factory: Factory) -> None:
    scored = scored_factory(5, size=5)
    scored.publish()
    _freeze(scored)
    with scored.sessions() as session:
        assert LAST_FREEZE.get(session) == NOW


ADD = "POST /playlists/{id}/items"


def _interrupted(scored: Scored, *, on_add: int) -> str:
    """A freeze that Spotify stops at its ``on_add``-th add (Retry-After: two hours)."""
    before = set(scored.sim.state.playlists)
    scored.sim.reset_calls()
    scored.sim.faults.inject(ADD, Fault.rate_limited(7200), calls=[on_add])
    with pytest.raises(SpotifyRateLimited):
        _freeze(scored)
    scored.sim.faults.clear()
    made = set(scored.sim.state.playlists) - before
    assert len(made) == 1
    return made.pop()


def test_an_interrupted_freeze_is_finished_next_time_without_a_second_copy(
    scored_factory: Factory,
) -> None:
    scored = scored_factory(260, size=230)
    published = scored.sync_then_publish()
    copy = _interrupted(scored, on_add=2)
    assert len(scored.sim.state.playlist_track_ids(copy)) == 100  # the first add landed
    scored.sim.reset_calls()
    report = _freeze(scored)
    assert report.resumed and report.playlist_id == copy
    assert scored.sim.calls["POST /me/playlists"] == 0
    assert scored.sim.calls[ADD] == 2  # the 130 tracks still missing, nothing twice
    original = scored.sim.state.playlist_track_ids(published.playlist_id)
    assert scored.sim.state.playlist_track_ids(copy) == original
    with scored.sessions() as session:
        assert PENDING_FREEZE.get(session) is None
    again = _freeze(scored, name="Another copy")  # the next freeze is a new copy again
    assert not again.resumed and again.playlist_id != copy


def test_a_copy_whose_id_was_never_recorded_is_found_by_its_title_and_description(
    scored_factory: Factory,
) -> None:
    scored = scored_factory(40, size=30)
    published = scored.sync_then_publish()
    copy = _interrupted(scored, on_add=1)
    with scored.sessions() as session:  # a crash right after the create's answer
        pending = PENDING_FREEZE.get(session)
        assert pending is not None and pending.playlist_id == copy
        PENDING_FREEZE.put(session, dataclasses.replace(pending, playlist_id=None))
        session.commit()
    before = set(scored.sim.state.playlists)
    report = _freeze(scored)
    assert report.resumed and report.playlist_id == copy
    assert set(scored.sim.state.playlists) == before
    original = scored.sim.state.playlist_track_ids(published.playlist_id)
    assert scored.sim.state.playlist_track_ids(copy) == original


def test_a_half_copy_the_listener_deleted_is_made_again_whole(scored_factory: Factory) -> None:
    scored = scored_factory(40, size=30)
    published = scored.sync_then_publish()
    copy = _interrupted(scored, on_add=1)
    scored.sim.state.playlists.pop(copy)
    before = set(scored.sim.state.playlists)
    report = _freeze(scored)
    assert report.resumed and report.playlist_id != copy
    assert set(scored.sim.state.playlists) - before == {report.playlist_id}
    original = scored.sim.state.playlist_track_ids(published.playlist_id)
    assert scored.sim.state.playlist_track_ids(report.playlist_id) == original
