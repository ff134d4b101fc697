"""Listening signals as exposure events, and the optional weak negative."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.ratings import exposure_negatives
from service.settings import Settings
from service.spotify_sim import SpotifySim
from service.store.ratings import effective_ratings, rating_history
from service.store.tables import Listen, Publication
from tests.jobs.sync.conftest import LISTENER, T0, Library, RunSync


def listens(session: Session, source: str) -> list[str]:
    return list(session.scalars(select(Listen.track_id).where(Listen.source == source)))


def test_recent_plays_of_bach_tracks_are_stored_once(
    library: Library, run_sync: RunSync, session: Session, spotify_settings: Settings
) -> None:
    settings = spotify_settings.model_copy(update={"exposure_negative": True})
    bach, jazz = library.bach_track(), library.other_track()
    for minutes in (10, 20):
        library.state.play(LISTENER, bach, T0 - timedelta(minutes=minutes))
    library.state.play(LISTENER, jazz, T0 - timedelta(minutes=5))

    run_sync(T0, settings)
    run_sync(T0 + timedelta(minutes=30), settings)

    assert listens(session, "recent") == [bach, bach]


def test_recent_plays_cost_no_call_while_the_exposure_signal_is_off(
    library: Library, run_sync: RunSync, spotify_sim: SpotifySim
) -> None:
    library.state.play(LISTENER, library.bach_track(), T0 - timedelta(minutes=10))
    run_sync()
    assert spotify_sim.calls["GET /me/player/recently-played"] == 0


def test_top_tracks_are_read_once_per_interval(
    library: Library, run_sync: RunSync, session: Session, spotify_sim: SpotifySim
) -> None:
    top = library.bach_track()
    library.state.set_top_tracks(LISTENER, [top, library.other_track()])

    run_sync()
    run_sync(T0 + timedelta(hours=1))
    assert spotify_sim.calls["GET /me/top/tracks"] == 1
    run_sync(T0 + timedelta(hours=24))

    assert spotify_sim.calls["GET /me/top/tracks"] == 2
    assert listens(session, "top") == [top, top]


@pytest.fixture
def heard_published(library: Library, session: Session) -> str:
    """A published track the user played three times and never liked."""
    track = library.bach_track()
    for minutes in (10, 20, 30):
        library.state.play(LISTENER, track, T0 - timedelta(minutes=minutes))
    session.add(Publication(playlist_id="bot", track_ids=[track]))
    session.commit()
    return track


def test_exposure_is_not_a_rating_by_default(
    heard_published: str, run_sync: RunSync, session: Session
) -> None:
    run_sync()
    assert heard_published not in effective_ratings(session=session)


def test_exposure_negative_rates_a_published_track_heard_often_once(
    heard_published: str, run_sync: RunSync, session: Session, spotify_settings: Settings
) -> None:
    settings = spotify_settings.model_copy(update={"exposure_negative": True})

    first = run_sync(T0, settings)
    second = run_sync(T0 + timedelta(minutes=30), settings)

    assert first.exposure_ratings == 1 and second.exposure_ratings == 0
    assert effective_ratings(session=session)[heard_published] == settings.exposure_rating
    assert [r.source for r in rating_history(session=session, track_id=heard_published)] == [
        "exposure"
    ]


@pytest.mark.parametrize(
    ("plays", "published", "rated", "expected"),
    [
        ({"a": 3, "b": 2}, {"a", "b"}, set(), ["a"]),
        ({"a": 5}, set(), set(), []),
        ({"a": 5}, {"a"}, {"a"}, []),
        ({"a": 3, "c": 4}, {"a", "c"}, {"c"}, ["a"]),
    ],
)
def test_exposure_negatives(
    plays: dict[str, int], published: set[str], rated: set[str], expected: list[str]
) -> None:
    assert exposure_negatives(plays=plays, published=published, rated=rated, min_plays=3) == (
        expected
    )
