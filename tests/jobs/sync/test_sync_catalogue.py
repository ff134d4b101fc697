"""The catalogue walk: discography, saved albums and searches, within a per-cycle call budget."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobs.sync_catalogue import album_cost
from jobs.sync_context import CallBudget
from service.settings import Settings
from service.spotify_sim import SpotifySim
from service.store.tables import Album, Track
from tests.jobs.sync.conftest import LISTENER, T0, Library, RunSync

CATALOGUE_ROUTES = (
    "GET /artists/{id}/albums",
    "GET /albums/{id}",
    "GET /albums/{id}/tracks",
    "GET /me/albums",
    "GET /search",
)


def catalogue_calls(calls: Counter[str]) -> int:
    return sum(calls[r] for r in CATALOGUE_ROUTES)


def bach_tracks(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Track).where(Track.is_bach)) or 0


def test_discography_of_many_albums_spreads_over_cycles_within_the_budget(
    library: Library,
    run_sync: RunSync,
    session: Session,
    spotify_sim: SpotifySim,
    spotify_settings: Settings,
) -> None:
    for _ in range(60):
        library.bach_album(3)
    settings = spotify_settings.model_copy(update={"calls_per_cycle": 20})
    # 6 listing pages + 60 album reads + one saved-albums page per cycle
    least_cycles = math.ceil((6 + 60) / 20)

    cycles, album_reads = 0, 0
    while True:
        spotify_sim.reset_calls()
        report = run_sync(T0 + timedelta(minutes=30 * cycles), settings)
        cycles += 1
        assert catalogue_calls(spotify_sim.calls) <= 20
        assert report.catalogue_calls == catalogue_calls(spotify_sim.calls)
        album_reads += spotify_sim.calls["GET /albums/{id}"]
        if report.catalogue_finished or cycles > 10:
            break

    assert report.catalogue_finished
    assert cycles >= least_cycles
    assert album_reads == 60  # every album read exactly once
    assert bach_tracks(session) == 180
    assert session.scalar(select(func.count()).where(Album.tracks_read_at.is_(None))) == 0


def test_album_with_more_than_fifty_tracks_is_read_in_full(
    library: Library, run_sync: RunSync, session: Session, spotify_sim: SpotifySim
) -> None:
    library.bach_album(75)

    run_sync()

    assert spotify_sim.calls["GET /albums/{id}/tracks"] == 1
    assert bach_tracks(session) == 75


def test_finished_discography_is_checked_again_only_after_the_refresh_interval(
    library: Library, run_sync: RunSync, session: Session, spotify_sim: SpotifySim
) -> None:
    library.bach_album(2)
    run_sync()
    _, new_ids = library.bach_album(2, name="A New Release")

    spotify_sim.reset_calls()
    run_sync(T0 + timedelta(hours=1))
    assert spotify_sim.calls["GET /artists/{id}/albums"] == 0
    assert session.get(Track, new_ids[0]) is None

    report = run_sync(T0 + timedelta(hours=24))

    assert report.albums_found == 1 and report.new_tracks == 2
    assert all(session.get(Track, t) is not None for t in new_ids)


def test_saved_albums_are_read_and_a_newly_saved_one_found_at_the_next_refresh(
    library: Library,
    run_sync: RunSync,
    session: Session,
    spotify_sim: SpotifySim,
    spotify_settings: Settings,
) -> None:
    state = library.state
    albums = []
    for n in range(3):
        album = state.add_album(f"Gould plays Bach {n}", artist_ids=[library.performer])
        state.add_track(
            f"Goldberg Variations, BWV 988: Var. {n}",
            album_id=album,
            artist_ids=[library.performer],
        )
        state.save_album(LISTENER, album, T0 - timedelta(days=3 - n))
        albums.append(album)
    jazz = state.add_album("Late Jazz", artist_ids=[library.other_artist])
    state.add_track("Blue", album_id=jazz, artist_ids=[library.other_artist])
    state.save_album(LISTENER, jazz, T0 - timedelta(days=5))
    run_sync()
    assert bach_tracks(session) == 3
    assert session.scalar(select(func.count()).select_from(Track)) == 3  # jazz ignored

    later = state.add_album("Gould plays Bach again", artist_ids=[library.performer])
    track = state.add_track(
        "Partita No. 2, BWV 826: Sinfonia", album_id=later, artist_ids=[library.performer]
    )
    state.save_album(LISTENER, later, T0 + timedelta(minutes=10))
    spotify_sim.reset_calls()

    run_sync(T0 + timedelta(minutes=30))  # a quiet cycle: the walk is done, no call
    assert spotify_sim.calls["GET /me/albums"] == 0

    refresh = timedelta(hours=spotify_settings.catalogue_refresh_hours)
    run_sync(T0 + refresh + timedelta(minutes=1))  # the refresh looks again: one page
    assert spotify_sim.calls["GET /me/albums"] == 1
    assert session.get(Track, track) is not None


def test_search_queries_find_bach_tracks_and_queue_their_albums(
    library: Library, run_sync: RunSync, session: Session, spotify_settings: Settings
) -> None:
    state = library.state
    album = state.add_album("Goldberg, live", artist_ids=[library.performer])
    hit = state.add_track(
        "Goldberg Variations, BWV 988: Aria", album_id=album, artist_ids=[library.performer]
    )
    sibling = state.add_track(
        "Partita No. 1, BWV 825: Gigue", album_id=album, artist_ids=[library.performer]
    )
    jazz = state.add_track("Goldberg Blues", artist_ids=[library.other_artist])
    settings = spotify_settings.model_copy(update={"search_queries": ["goldberg"]})

    run_sync(T0, settings)

    assert session.get_one(Track, hit).source == "search:goldberg"
    assert session.get(Track, sibling) is not None  # read with its album
    assert session.get(Track, jazz) is None


@pytest.mark.parametrize(
    ("total", "calls"), [(None, 1), (0, 1), (1, 1), (50, 1), (51, 2), (100, 2), (101, 3)]
)
def test_album_cost_counts_pages_beyond_the_first_fifty(total: int | None, calls: int) -> None:
    assert album_cost(total) == calls


def test_call_budget_counts_from_where_it_started() -> None:
    calls: Counter[str] = Counter({"GET /me": 5})
    budget = CallBudget(calls, 3)
    assert budget.left == 3
    calls["GET /search"] += 2
    assert budget.spent == 2 and budget.allows(1) and not budget.allows(2)
    calls["GET /albums/{id}"] += 2
    assert budget.left == 0 and not budget.allows()


def test_unknown_composer_id_is_reported_and_the_rest_of_the_sync_goes_on(
    library: Library, run_sync: RunSync, session: Session, spotify_settings: Settings
) -> None:
    library.bach_album(2)
    settings = spotify_settings.model_copy(
        update={
            "composer_artist_ids": ["0000000000000000000000", *spotify_settings.composer_artist_ids]
        }
    )

    report = run_sync(T0, settings)

    assert any(
        "artist:0000000000000000000000" in p and "BACHBOT_COMPOSER_ARTIST_IDS" in p
        for p in report.unavailable
    )
    assert bach_tracks(session) == 2
