"""The gateway's objects become the store's values field for field."""

from __future__ import annotations

from jobs.spotify_to_store import album_facts, listed_playlist, track_facts
from service.spotify.types import AlbumRef, Artist, PlaylistInfo, TrackInfo
from service.store.playlists import ListedPlaylist
from service.store.tracks import AlbumFacts, Credit, TrackFacts

REF = AlbumRef(
    id="al1",
    name="Cello Suites",
    album_type="compilation",
    release_date="2019-05-01",
    total_tracks=36,
    artists=(Artist("a2", "A Cellist"),),
)
INFO = TrackInfo(
    id="t1",
    name="Prelude",
    artists=(Artist("bach", "Johann Sebastian Bach"), Artist(None, "A Cellist")),
    album=REF,
    duration_ms=150_000,
    isrc="USX1",
    track_number=7,
    is_local=False,
    is_playable=True,
)


def test_an_album_keeps_every_field_the_store_knows() -> None:
    assert album_facts(REF) == AlbumFacts(
        id="al1",
        name="Cello Suites",
        album_type="compilation",
        release_date="2019-05-01",
        total_tracks=36,
    )


def test_a_track_keeps_every_field_the_store_knows() -> None:
    assert track_facts(INFO) == TrackFacts(
        id="t1",
        name="Prelude",
        artists=(Credit("bach", "Johann Sebastian Bach"), Credit(None, "A Cellist")),
        album=album_facts(REF),
        duration_ms=150_000,
        isrc="USX1",
        track_number=7,
    )


def test_a_track_without_album_or_isrc_says_so() -> None:
    bare = TrackInfo("t2", "Aria", (), None, None, None, None, is_local=False, is_playable=None)
    assert track_facts(bare) == TrackFacts("t2", "Aria", (), None, None, None, None)


def test_a_listed_playlist_keeps_every_field_the_store_knows() -> None:
    info = PlaylistInfo(
        id="p1",
        name="Baroque essentials",
        owner_id="curator",
        owner_name="A Curator",
        snapshot_id="s9",
        collaborative=True,
        public=True,
        items_total=12,
        description="the best",
    )
    assert listed_playlist(info) == ListedPlaylist(
        id="p1",
        name="Baroque essentials",
        owner_id="curator",
        owner_name="A Curator",
        snapshot_id="s9",
        collaborative=True,
    )
