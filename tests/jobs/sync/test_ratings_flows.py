"""Explicit, imported and removal ratings, against the local Spotify."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobs.rating_input import ImportRejected, RatingLine
from jobs.ratings import (
    import_ratings,
    rate_track,
    record_removals,
)
from service.errors import ConfigError
from service.settings import Settings
from service.spotify.gateway import SpotifyGateway
from service.spotify_sim import SpotifySim
from service.store.ratings import effective_ratings, rating_history
from service.store.tables import Rating, Track
from tests.jobs.sync.conftest import LISTENER, T0, Library, RunSync

MISSING = "0000000000000000000000"


def count(session: Session, table: type[Rating] | type[Track]) -> int:
    return session.scalar(select(func.count()).select_from(table)) or 0


def test_rating_an_unknown_track_by_link_fetches_it_once(
    library: Library,
    session: Session,
    gateway: SpotifyGateway,
    spotify_settings: Settings,
    spotify_sim: SpotifySim,
) -> None:
    track = library.bach_track()
    link = f"https://open.spotify.com/track/{track}?si=abc"

    result = rate_track(
        session=session, spotify=gateway, settings=spotify_settings, ref=link, value="9"
    )
    again = rate_track(
        session=session, spotify=gateway, settings=spotify_settings, ref=track, value=7
    )

    assert result.fetched and not again.fetched and result.is_bach
    assert spotify_sim.calls["GET /tracks/{id}"] == 1
    assert effective_ratings(session=session)[track] == 7


def test_explicit_rating_outranks_a_later_like(
    library: Library,
    run_sync: RunSync,
    session: Session,
    gateway: SpotifyGateway,
    spotify_settings: Settings,
) -> None:
    track = library.bach_track()
    rate_track(session=session, spotify=gateway, settings=spotify_settings, ref=track, value=2)
    session.commit()
    library.state.like(LISTENER, track, T0)

    run_sync(T0 + timedelta(minutes=1))

    assert [r.source for r in rating_history(session=session, track_id=track)] == [
        "explicit",
        "like",
    ]
    assert effective_ratings(session=session)[track] == 2


@pytest.mark.parametrize(
    ("ref", "value", "problem"),
    [
        ("spotify:album:abc", 5, "is not a track id"),
        ("4iV5W9uYEdYUVa79Axb7Rh", 0, "out of range"),
        (MISSING, 5, f"Spotify has no track {MISSING}"),
    ],
)
def test_bad_rate_request_names_the_problem_and_writes_nothing(
    session: Session,
    gateway: SpotifyGateway,
    spotify_settings: Settings,
    ref: str,
    value: int,
    problem: str,
) -> None:
    with pytest.raises(ConfigError, match=problem):
        rate_track(
            session=session, spotify=gateway, settings=spotify_settings, ref=ref, value=value
        )
    assert count(session, Rating) == 0


def test_import_fetches_unknown_tracks_one_by_one_with_progress(
    library: Library,
    session: Session,
    gateway: SpotifyGateway,
    spotify_settings: Settings,
    spotify_sim: SpotifySim,
) -> None:
    tracks = [library.bach_track() for _ in range(4)]
    jazz = library.other_track()
    lines = [RatingLine(n + 1, t, 5 + n) for n, t in enumerate([*tracks, jazz])]
    seen: list[tuple[int, int]] = []

    report = import_ratings(
        session=session,
        spotify=gateway,
        settings=spotify_settings,
        lines=lines,
        progress=lambda done, total, _id: seen.append((done, total)),
    )

    assert spotify_sim.calls["GET /tracks/{id}"] == 5
    assert seen == [(n, 5) for n in range(1, 6)]
    assert report.rated == 5 and report.not_bach == [jazz]
    ratings = effective_ratings(session=session)
    assert [ratings[t] for t in [*tracks, jazz]] == [5, 6, 7, 8, 9]
    assert {r.source for r in session.scalars(select(Rating))} == {"import"}


def test_importing_the_same_ratings_twice_adds_nothing(
    library: Library, session: Session, gateway: SpotifyGateway, spotify_settings: Settings
) -> None:
    lines = [RatingLine(1, library.bach_track(), 8)]
    import_ratings(session=session, spotify=gateway, settings=spotify_settings, lines=lines)

    again = import_ratings(session=session, spotify=gateway, settings=spotify_settings, lines=lines)

    assert again.rated == 0 and again.unchanged == 1
    assert count(session, Rating) == 1


def test_import_with_a_track_spotify_does_not_have_writes_nothing(
    library: Library, session: Session, gateway: SpotifyGateway, spotify_settings: Settings
) -> None:
    known = library.bach_track()
    lines = [RatingLine(2, known, 8), RatingLine(3, MISSING, 4)]

    with pytest.raises(ImportRejected) as caught:
        import_ratings(session=session, spotify=gateway, settings=spotify_settings, lines=lines)
    session.rollback()  # what the CLI's transaction does

    assert caught.value.errors == [f"line 3: Spotify has no track {MISSING}"]
    assert count(session, Rating) == 0 and count(session, Track) == 0


def test_import_beyond_the_call_budget_is_refused_before_any_call(
    library: Library,
    session: Session,
    gateway: SpotifyGateway,
    spotify_settings: Settings,
    spotify_sim: SpotifySim,
) -> None:
    lines = [RatingLine(n + 1, library.bach_track(), 7) for n in range(11)]
    settings = spotify_settings.model_copy(update={"calls_per_cycle": 10})

    with pytest.raises(ConfigError, match=r"11 tracks are new .* budget of 10"):
        import_ratings(session=session, spotify=gateway, settings=settings, lines=lines)
    assert spotify_sim.calls["GET /tracks/{id}"] == 0


def test_removal_from_the_bot_playlist_is_a_low_rating_and_a_later_like_wins(
    library: Library,
    run_sync: RunSync,
    session: Session,
    spotify_settings: Settings,
) -> None:
    track = library.bach_track()
    run_sync()

    rows = record_removals(
        session=session, track_ids=[track, track, MISSING], settings=spotify_settings
    )
    session.commit()
    assert [(r.track_id, r.value, r.source) for r in rows] == [
        (track, spotify_settings.removal_rating, "removal")
    ]
    assert effective_ratings(session=session)[track] == spotify_settings.removal_rating

    library.state.like(LISTENER, track, T0 + timedelta(minutes=5))
    run_sync(T0 + timedelta(minutes=30))

    assert effective_ratings(session=session)[track] == spotify_settings.like_rating
