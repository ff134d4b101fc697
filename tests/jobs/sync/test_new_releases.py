"""New recordings first: the new-release probe and a first sync's newest releases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.sync_new_releases import probe_queries
from service.settings import Settings
from service.spotify_sim import SpotifySim
from service.store.tables import Album, Track
from tests.jobs.sync.conftest import BACH, T0, Library, RunSync


def _release(library: Library, *, days_ago: int, album_type: str = "album") -> list[str]:
    """A Bach album released ``days_ago`` before T0; its track ids (``appears_on``: an
    album of the performer's on which Bach is a guest artist)."""
    when = (T0.date() - timedelta(days=days_ago)).isoformat()
    library.counter += 1
    guest = album_type == "appears_on"
    album = library.state.add_album(
        f"Fresh Bach {library.counter}",
        artist_ids=[library.performer, BACH] if guest else [BACH, library.performer],
        release_date=when,
        album_type="album" if guest else album_type,
    )
    return [
        library.state.add_track(
            f"Cello Suite No. {n}, BWV 100{n}: Prelude",
            album_id=album,
            artist_ids=[BACH, library.performer],
        )
        for n in range(1, 3)
    ]


def _known(session: Session, ids: list[str]) -> set[str]:
    return set(session.scalars(select(Track.id).where(Track.id.in_(ids))))


def test_new_releases_are_read_first_in_a_large_discography(
    library: Library,
    run_sync: RunSync,
    session: Session,
    spotify_sim: SpotifySim,
    spotify_settings: Settings,
) -> None:
    spotify_sim.state.clock = lambda: T0
    for _ in range(120):
        library.bach_album(2)
    fresh = [t for days in (1, 5, 13) for t in _release(library, days_ago=days)]
    _release(library, days_ago=20)  # older than two weeks: not a new release
    settings = spotify_settings.model_copy(
        update={"calls_per_cycle": 10, "newest_first_releases": 0}
    )

    report = run_sync(T0, settings)

    assert _known(session, fresh) == set(fresh)
    assert report.new_releases == 3
    # one search page finds the three, one read each: the rest of the budget walks on
    assert spotify_sim.calls["GET /search"] == 1
    new_albums = session.scalars(select(Album).where(Album.found_via == "new")).all()
    assert len(new_albums) == 3


def test_probe_runs_again_only_after_its_interval(
    library: Library,
    run_sync: RunSync,
    spotify_sim: SpotifySim,
    spotify_settings: Settings,
) -> None:
    spotify_sim.state.clock = lambda: T0
    _release(library, days_ago=2)
    settings = spotify_settings.model_copy(update={"new_release_probe_hours": 6.0})

    run_sync(T0, settings)
    spotify_sim.reset_calls()
    run_sync(T0 + timedelta(hours=1), settings)
    quiet = spotify_sim.calls["GET /search"]
    run_sync(T0 + timedelta(hours=7), settings)

    assert quiet == 0
    assert spotify_sim.calls["GET /search"] == 1


def test_without_tag_new_hits_the_year_search_keeps_only_the_window(
    library: Library,
    run_sync: RunSync,
    session: Session,
    spotify_sim: SpotifySim,
    spotify_settings: Settings,
) -> None:
    # The catalogue's clock is a month ahead, so tag:new finds nothing bachbot calls new;
    # the fallback year search sees this year's albums and keeps those of the window.
    spotify_sim.state.clock = lambda: T0 + timedelta(days=30)
    fresh = _release(library, days_ago=3)
    _release(library, days_ago=40)
    settings = spotify_settings.model_copy(update={"newest_first_releases": 0})

    report = run_sync(T0, settings)

    assert spotify_sim.calls["GET /search"] == 2
    assert report.new_releases == 1
    assert _known(session, fresh) == set(fresh)


def test_probe_year_range_spans_new_year() -> None:
    assert probe_queries("J. S. Bach", date(2027, 1, 5)) == (
        'tag:new artist:"J. S. Bach"',
        'artist:"J. S. Bach" year:2026-2027',
    )
    assert probe_queries("J. S. Bach", date(2026, 11, 20))[1] == 'artist:"J. S. Bach" year:2026'


@pytest.mark.parametrize(("newest_first", "known"), [(4, True), (0, False)])
def test_first_sync_reads_the_newest_releases_of_every_group_first(
    library: Library,
    run_sync: RunSync,
    session: Session,
    spotify_sim: SpotifySim,
    spotify_settings: Settings,
    newest_first: int,
    known: bool,
) -> None:
    """Spotify lists albums first, then singles, compilations and appears_on: a plain walk
    of 150 older albums (``newest_first`` 0) reaches these recent ones last."""
    spotify_sim.state.clock = lambda: T0
    for _ in range(150):
        library.bach_album(1)
    recent = [
        t
        for days, kind in ((30, "single"), (40, "compilation"), (50, "single"), (60, "appears_on"))
        for t in _release(library, days_ago=days, album_type=kind)
    ]
    settings = spotify_settings.model_copy(
        update={"calls_per_cycle": 20, "newest_first_releases": newest_first}
    )

    run_sync(T0, settings)

    assert _known(session, recent) == (set(recent) if known else set())
