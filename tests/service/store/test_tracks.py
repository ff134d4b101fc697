"""Tracks and albums kept in step with Spotify: nothing known is lost, nothing unchanged moves."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from service.store.tables import Album, Track
from service.store.tracks import AlbumFacts, Credit, TrackFacts, upsert_album, upsert_track

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
ALBUM = AlbumFacts(
    id="al1", name="Cello Suites", album_type="album", release_date="2019", total_tracks=36
)
FULL = TrackFacts(
    id="t1",
    name="Cello Suite No. 1 in G major, BWV 1007: Prelude",
    artists=(Credit("bach", "Johann Sebastian Bach"), Credit(None, "A Cellist")),
    album=ALBUM,
    duration_ms=150_000,
    isrc="USX1",
    track_number=1,
)
SIMPLIFIED = replace(FULL, album=None, isrc=None, duration_ms=None, track_number=None)
"""The same track as an album listing or a search hit gives it: fewer fields."""


def _store(session: Session, track: TrackFacts, source: str = "like") -> tuple[Track, bool]:
    return upsert_track(
        session=session, track=track, is_bach=True, bwv="1007", meta={}, source=source
    )


def test_a_new_track_is_stored_with_every_field(session: Session) -> None:
    row, created = _store(session, FULL)
    assert created
    assert (row.name, row.album_id, row.album_name, row.album_type, row.release_date) == (
        FULL.name,
        "al1",
        "Cello Suites",
        "album",
        "2019",
    )
    assert (row.duration_ms, row.isrc, row.track_number, row.bwv, row.is_bach) == (
        150_000,
        "USX1",
        1,
        "1007",
        True,
    )
    assert row.artists == [
        {"id": "bach", "name": "Johann Sebastian Bach"},
        {"id": None, "name": "A Cellist"},
    ]


def test_a_sighting_with_fewer_fields_keeps_what_was_known(session: Session) -> None:
    _store(session, FULL, source="like")
    row, created = _store(session, replace(SIMPLIFIED, name="Prelude (remastered)"), "search:q")
    assert not created
    assert row.name == "Prelude (remastered)"
    assert (row.album_id, row.isrc, row.duration_ms, row.track_number) == (
        "al1",
        "USX1",
        150_000,
        1,
    )
    assert row.source == "like"


def test_updated_at_moves_only_when_something_changed(session: Session) -> None:
    row, _ = _store(session, FULL)
    row.updated_at = LONG_AGO
    session.flush()
    _store(session, FULL)
    _store(session, SIMPLIFIED)
    assert row.updated_at == LONG_AGO
    _store(session, replace(FULL, isrc="USX2"))
    assert row.updated_at != LONG_AGO and row.isrc == "USX2"


def test_an_album_keeps_known_values_and_how_it_was_found(session: Session) -> None:
    row, created = upsert_album(session=session, album=ALBUM, found_via="artist:bach")
    assert created
    again, created = upsert_album(
        session=session,
        album=replace(ALBUM, album_type=None, release_date=None, total_tracks=None),
        found_via="saved",
    )
    assert not created and again is row
    assert (row.album_type, row.release_date, row.total_tracks) == ("album", "2019", 36)
    assert session.get_one(Album, "al1").found_via == "artist:bach"
