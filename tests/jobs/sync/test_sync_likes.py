"""Liked Songs: likes become ratings, new ones cost one page, unlikes are found on a full pass."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from jobs.sync_likes import LikeMark, full_pass_due, newer_than
from service.settings import Settings
from service.spotify.types import SavedTrack, TrackInfo
from service.spotify_sim import SpotifySim
from service.store.ratings import effective_ratings, liked_track_ids, rating_history
from service.store.tables import Track
from tests.jobs.sync.conftest import LISTENER, T0, Library, RunSync

LIKES = "GET /me/tracks"


def like_many(library: Library, n: int, start: datetime) -> tuple[list[str], list[str]]:
    """``n`` likes one minute apart, every third one non-Bach; (bach, other) ids."""
    bach: list[str] = []
    other: list[str] = []
    for i in range(n):
        track = library.other_track() if i % 3 == 2 else library.bach_track()
        (other if i % 3 == 2 else bach).append(track)
        library.state.like(LISTENER, track, start + timedelta(minutes=i))
    return bach, other


def test_first_sync_turns_bach_likes_over_several_pages_into_ratings(
    library: Library,
    run_sync: RunSync,
    session: Session,
    spotify_sim: SpotifySim,
    spotify_settings: Settings,
) -> None:
    bach, other = like_many(library, 120, T0 - timedelta(days=10))

    report = run_sync()

    assert spotify_sim.calls[LIKES] == 3
    assert report.new_likes == len(bach) == 80
    ratings = effective_ratings(session=session)
    assert {t: ratings[t] for t in bach} == {t: spotify_settings.like_rating for t in bach}
    assert all(session.get(Track, t) is None for t in other)


def test_incremental_sync_stops_paging_at_the_first_known_like(
    library: Library, run_sync: RunSync, session: Session, spotify_sim: SpotifySim
) -> None:
    like_many(library, 120, T0 - timedelta(days=10))
    run_sync()
    new_bach, _ = like_many(library, 60, T0)  # 40 Bach, spanning two pages
    spotify_sim.reset_calls()

    report = run_sync(T0 + timedelta(hours=2))

    assert spotify_sim.calls[LIKES] == 2
    assert report.new_likes == len(new_bach) == 40
    assert report.likes_full_pass is False
    assert set(new_bach) <= liked_track_ids(session=session)


def test_unlike_is_retracted_on_the_next_full_pass_keeping_history(
    library: Library, run_sync: RunSync, session: Session
) -> None:
    bach, _ = like_many(library, 6, T0 - timedelta(days=1))
    run_sync()
    library.state.unlike(LISTENER, bach[0])

    early = run_sync(T0 + timedelta(hours=1))
    assert early.retracted_likes == 0
    assert bach[0] in liked_track_ids(session=session)

    full = run_sync(T0 + timedelta(hours=24))

    assert full.likes_full_pass is True and full.retracted_likes == 1
    assert bach[0] not in liked_track_ids(session=session)
    assert bach[0] not in effective_ratings(session=session)
    assert [r.source for r in rating_history(session=session, track_id=bach[0])] == [
        "like",
        "unlike",
    ]


def test_like_again_after_unlike_rates_again(
    library: Library, run_sync: RunSync, session: Session, spotify_settings: Settings
) -> None:
    track = library.bach_track()
    library.state.like(LISTENER, track, T0 - timedelta(days=1))
    run_sync()
    library.state.unlike(LISTENER, track)
    run_sync(T0 + timedelta(hours=24))
    library.state.like(LISTENER, track, T0 + timedelta(hours=25))

    report = run_sync(T0 + timedelta(hours=26))

    assert report.new_likes == 1
    assert effective_ratings(session=session)[track] == spotify_settings.like_rating


def test_liked_track_already_rated_explicitly_keeps_explicit_rating(
    library: Library, run_sync: RunSync, session: Session
) -> None:
    from service.store.ratings import add_rating

    track = library.bach_track()
    run_sync()
    add_rating(session=session, track_id=track, value=3, source="explicit")
    session.commit()
    library.state.like(LISTENER, track, T0 + timedelta(minutes=5))

    run_sync(T0 + timedelta(minutes=30))

    assert effective_ratings(session=session)[track] == 3


def _saved(track_id: str, added_at: datetime) -> SavedTrack:
    info = TrackInfo(track_id, track_id, (), None, None, None, None, False, True)
    return SavedTrack(info, added_at)


@pytest.mark.parametrize(
    ("stream", "mark", "expected"),
    [
        ([("a", 3), ("b", 2), ("c", 1)], None, ["a", "b", "c"]),
        ([("a", 3), ("b", 2), ("c", 1)], ("b", 2), ["a"]),
        ([("a", 3), ("b", 2), ("c", 1)], ("a", 3), []),
        # the mark was unliked: stop at the first older like
        ([("a", 3), ("c", 1)], ("b", 2), ["a"]),
        # same second as the mark, listed before it: kept
        ([("x", 2), ("b", 2), ("c", 1)], ("b", 2), ["x"]),
    ],
)
def test_newer_than_mark(
    stream: list[tuple[str, int]], mark: tuple[str, int] | None, expected: list[str]
) -> None:
    items = [_saved(t, T0 + timedelta(seconds=s)) for t, s in stream]
    like_mark = None if mark is None else LikeMark(T0 + timedelta(seconds=mark[1]), mark[0])
    assert [s.track.id for s in newer_than(items, like_mark)] == expected


def test_newer_than_stops_consuming_the_stream_at_the_mark() -> None:
    consumed: list[str] = []

    def stream() -> Iterator[SavedTrack]:
        for t, s in [("a", 3), ("b", 2), ("c", 1)]:
            consumed.append(t)
            yield _saved(t, T0 + timedelta(seconds=s))

    list(newer_than(stream(), LikeMark(T0 + timedelta(seconds=2), "b")))
    assert consumed == ["a", "b"]


@pytest.mark.parametrize(
    ("last", "expected"),
    [(None, True), (T0 - timedelta(hours=23), False), (T0 - timedelta(hours=24), True)],
)
def test_full_pass_due_every_interval(last: datetime | None, expected: bool) -> None:
    assert full_pass_due(last, T0, timedelta(hours=24)) is expected
