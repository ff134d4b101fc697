""" "Bach to rate": a second bachbot playlist with the same minimal-write, crash-safe rules."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from jobs.playlist_plan import PLAYLIST_MARKER, TO_RATE_MARKER
from service.store.app_state import TO_RATE_PLAYLIST
from service.store.history import to_rate_answers
from service.store.tables import ModelVersion, Playlist, PlaylistKind, Publication, Rating
from tests.jobs.publish.conftest import Scored

Factory = Callable[..., Scored]
WRITES = ("POST /me/playlists", "PUT /playlists/{id}/items", "POST /playlists/{id}/items")


def _to_rate(scored: Scored) -> list[str]:
    return scored.sim.state.find_playlists(scored.settings.to_rate_name)


def test_publish_makes_one_to_rate_playlist_apart_from_the_favourites(
    scored_factory: Factory,
) -> None:
    scored = scored_factory(40, size=10)
    report = scored.publish()
    assert report.to_rate_playlist_id is not None and report.to_rate_rewritten
    assert report.to_rate_published == scored.settings.to_rate_size == 10
    favourites = scored.sim.state.playlist_track_ids(report.playlist_id)
    asked = scored.sim.state.playlist_track_ids(report.to_rate_playlist_id)
    assert len(asked) == 10 and not set(asked) & set(favourites)
    description = scored.sim.state.playlists[report.to_rate_playlist_id].description or ""
    assert description.startswith(TO_RATE_MARKER) and not description.startswith(PLAYLIST_MARKER)
    for _ in range(3):
        scored.sync_then_publish()
    assert _to_rate(scored) == [report.to_rate_playlist_id]
    assert len(scored.bot_playlists()) == 1
    with scored.sessions() as session:
        kinds = {p.playlist_kind for p in session.scalars(select(Publication))}
        assert kinds == {PlaylistKind.FAVOURITES, PlaylistKind.TO_RATE}
        row = session.get(Playlist, report.to_rate_playlist_id)
        assert row is not None and row.is_bot_playlist  # never read as a source of tracks


def test_an_unchanged_to_rate_list_costs_no_write(scored_factory: Factory) -> None:
    scored = scored_factory(40, size=10)
    scored.publish()
    scored.sync_then_publish()
    scored.sim.reset_calls()
    report = scored.sync_then_publish()
    assert not report.to_rate_rewritten and not report.rewritten
    assert sum(scored.sim.calls[route] for route in WRITES) == 0


def test_a_removal_from_to_rate_is_a_low_rating_and_the_list_is_topped_up(
    scored_factory: Factory,
) -> None:
    scored = scored_factory(40, size=10)
    first = scored.publish()
    assert first.to_rate_playlist_id is not None
    asked = scored.sim.state.playlist_track_ids(first.to_rate_playlist_id)
    removed = asked[2]
    scored.sim.state.remove_from_playlist(first.to_rate_playlist_id, removed)
    report = scored.sync_then_publish()
    assert report.to_rate_removals == [removed] and report.to_rate_rewritten
    with scored.sessions() as session:
        ratings = session.scalars(select(Rating).where(Rating.track_id == removed)).all()
        assert [(r.source, r.value) for r in ratings] == [
            ("removal", scored.settings.removal_rating)
        ]
        answers = to_rate_answers(session=session)
    now = scored.sim.state.playlist_track_ids(first.to_rate_playlist_id)
    assert removed not in now and len(now) == 10
    assert [t for t in asked if t != removed] == now[:9]  # the waiting ones stay, in order
    assert answers is not None and (answers.asked, answers.answered, answers.waiting) == (11, 1, 10)
    scored.sync_then_publish()  # seen once: recorded once
    with scored.sessions() as session:
        assert len(session.scalars(select(Rating).where(Rating.track_id == removed)).all()) == 1


def test_to_rate_turned_off_makes_no_playlist(scored_factory: Factory) -> None:
    scored = scored_factory(30, size=10)
    scored.settings = scored.settings.model_copy(update={"to_rate_size": 0})
    report = scored.publish()
    assert report.to_rate_playlist_id is None and _to_rate(scored) == []
    assert report.published == 10


def test_no_model_in_use_makes_no_to_rate_playlist(scored_factory: Factory) -> None:
    scored = scored_factory(30, size=10)
    with scored.sessions() as session:
        for model in session.scalars(select(ModelVersion)):
            model.promoted = False
        session.commit()
    report = scored.publish()
    assert report.to_rate_playlist_id is None and _to_rate(scored) == []
    with scored.sessions() as session:
        assert TO_RATE_PLAYLIST.get(session) is None
