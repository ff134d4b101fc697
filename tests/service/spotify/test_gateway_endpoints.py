"""The gateway drives every endpoint bachbot uses through spotipy, over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.spotify.errors import SpotifyNotFound, SpotifyRestricted
from service.spotify.gateway import SpotifyGateway
from service.spotify_sim import SpotifySim
from tests.plugins.spotify_fixtures import LISTENER
from tests.service.spotify.conftest import START, Library


def test_me_names_the_authorized_user(gateway: SpotifyGateway) -> None:
    me = gateway.me()
    assert (me.id, me.display_name) == (LISTENER, "The Listener")
    assert gateway.calls["GET /me"] == 1


def test_my_playlists_lists_owned_and_followed_playlists(
    gateway: SpotifyGateway, library: Library
) -> None:
    playlists = {p.name: p for p in gateway.my_playlists()}
    assert set(playlists) == {"Bach mornings", "Baroque essentials", "Shared Bach"}
    curated = playlists["Baroque essentials"]
    assert (curated.owner_id, curated.owner_name, curated.items_total) == (
        "curator",
        "A Curator",
        3,
    )
    assert playlists["Shared Bach"].collaborative


def test_my_playlists_reads_every_page(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, library: Library
) -> None:
    for n in range(120):
        spotify_sim.state.add_playlist(owner=LISTENER, name=f"list {n}")
    assert len(gateway.my_playlists()) == 123
    assert gateway.calls["GET /me/playlists"] == 3


def test_playlist_items_of_own_and_collaborative_playlists(
    gateway: SpotifyGateway, library: Library
) -> None:
    own = gateway.playlist_items(library.own_playlist)
    assert [i.track.id for i in own if i.track] == library.tracks[:3]
    assert [i.position for i in own] == [0, 1, 2]
    shared = gateway.playlist_items(library.collab_playlist)
    assert [i.track.id for i in shared if i.track] == library.tracks[6:8]


def test_playlist_items_of_someone_elses_playlist_is_restricted_with_the_2026_rule(
    gateway: SpotifyGateway, library: Library
) -> None:
    with pytest.raises(SpotifyRestricted) as caught:
        gateway.playlist_items(library.curated_playlist, name="Baroque essentials")
    message = str(caught.value)
    assert 'playlist "Baroque essentials" is owned by another user' in message
    assert "since 2026" in message
    assert caught.value.resource == 'playlist "Baroque essentials"'


def test_extended_quota_app_still_reads_other_peoples_playlists(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, library: Library
) -> None:
    spotify_sim.mode = "extended"
    items = gateway.playlist_items(library.curated_playlist)
    assert [i.track.id for i in items if i.track] == library.tracks[3:6]


def test_playlist_items_page_through_a_long_playlist(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, library: Library
) -> None:
    long_list = spotify_sim.state.add_playlist(
        owner=LISTENER, name="long", track_ids=library.tracks * 4
    )
    items = gateway.playlist_items(long_list)
    assert [i.track.id for i in items if i.track] == library.tracks * 4
    assert gateway.calls["GET /playlists/{id}/items"] == 3  # 128 items, 50 a page


def test_create_fill_and_rename_a_playlist(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, library: Library
) -> None:
    created = gateway.create_playlist("Predicted favourites", public=False, description="by bot")
    assert (created.owner_id, created.public, created.description) == (LISTENER, False, "by bot")
    uris = [f"spotify:track:{t}" for t in library.tracks] * 8  # 256: PUT 100, POST 100, POST 56
    snapshot = gateway.replace_playlist_items(created.id, uris)
    assert snapshot != created.snapshot_id
    assert spotify_sim.state.playlist_track_ids(created.id) == library.tracks * 8
    assert gateway.calls["PUT /playlists/{id}/items"] == 1
    assert gateway.calls["POST /playlists/{id}/items"] == 2
    gateway.update_playlist_details(created.id, description="new words")
    info = gateway.playlist(created.id)
    assert (info.name, info.description, info.snapshot_id != snapshot) == (
        "Predicted favourites",
        "new words",
        True,
    )


def test_replacing_with_nothing_empties_the_playlist(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, library: Library
) -> None:
    gateway.replace_playlist_items(library.own_playlist, [])
    assert spotify_sim.state.playlist_track_ids(library.own_playlist) == []


def test_saved_tracks_come_newest_first_and_lazily(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, library: Library
) -> None:
    for i, track in enumerate(library.tracks):
        spotify_sim.state.like(LISTENER, track, START + timedelta(hours=i))
    saved = gateway.iter_saved_tracks()
    first = next(saved)
    assert first.track.id == library.tracks[-1]
    assert first.added_at == START + timedelta(hours=len(library.tracks) - 1)
    assert gateway.calls["GET /me/tracks"] == 1  # only the first page so far
    rest = list(saved)
    assert [s.track.id for s in [first, *rest]] == library.tracks[::-1]


def test_saved_albums_page(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, library: Library
) -> None:
    spotify_sim.state.save_album(LISTENER, library.goldberg, START)
    page = gateway.saved_albums(offset=0)
    assert [a.name for a in page.items] == ["Goldberg Variations, BWV 988"]
    assert (page.total, page.next_offset) == (1, None)


def test_recently_played_and_top_tracks(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, library: Library
) -> None:
    spotify_sim.state.play(LISTENER, library.tracks[0], START)
    spotify_sim.state.play(LISTENER, library.tracks[1], START + timedelta(minutes=5))
    spotify_sim.state.set_top_tracks(LISTENER, library.tracks[:2])
    history = gateway.recently_played()
    assert [(h.track.id, h.played_at) for h in history] == [
        (library.tracks[1], START + timedelta(minutes=5)),
        (library.tracks[0], START),
    ]
    assert [t.id for t in gateway.top_tracks()] == library.tracks[:2]


def test_artist_albums_pages_hold_at_most_10(gateway: SpotifyGateway, library: Library) -> None:
    first = gateway.artist_albums(library.bach, offset=0)
    assert (len(first.items), first.total, first.next_offset) == (10, 12, 10)
    second = gateway.artist_albums(library.bach, offset=first.next_offset or 0)
    assert (len(second.items), second.next_offset) == (2, None)


def test_album_and_its_tracks_with_the_album_filled_in(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, library: Library
) -> None:
    for n in range(40):  # 72 tracks: 50 with the album, 22 from /albums/{id}/tracks
        spotify_sim.state.add_track(f"extra {n}", album_id=library.goldberg)
    tracks = gateway.album_tracks(library.goldberg)
    assert len(tracks) == 72
    albums = {t.album for t in tracks}
    assert len(albums) == 1
    album = albums.pop()
    assert album is not None
    assert (album.name, album.total_tracks, album.release_date) == (
        "Goldberg Variations, BWV 988",
        72,
        "1982",
    )
    assert tracks[0].artists[0].name == "Johann Sebastian Bach"
    assert gateway.calls["GET /albums/{id}/tracks"] == 1


def test_track_reads_one_track_with_isrc(gateway: SpotifyGateway, library: Library) -> None:
    track = gateway.track(library.tracks[0])
    assert (track.isrc, track.track_number, track.uri) == (
        "USSM18200001",
        1,
        f"spotify:track:{library.tracks[0]}",
    )
    assert track.album is not None and track.album.id == library.goldberg


def test_unknown_track_is_not_found(gateway: SpotifyGateway, library: Library) -> None:
    with pytest.raises(SpotifyNotFound, match="track nope"):
        gateway.track("nope")


def test_search_tracks_pages_by_10(gateway: SpotifyGateway, library: Library) -> None:
    first = gateway.search_tracks("goldberg variatio", offset=0)
    assert (len(first.items), first.total, first.next_offset) == (10, 32, 10)
    last = gateway.search_tracks("goldberg variatio", offset=30)
    assert (len(last.items), last.next_offset) == (2, None)


def test_audio_features_are_closed_to_new_apps(gateway: SpotifyGateway, library: Library) -> None:
    with pytest.raises(SpotifyRestricted, match="audio features"):
        gateway.audio_features(library.tracks[:3])
    with pytest.raises(SpotifyRestricted, match="audio analysis"):
        gateway.audio_analysis(library.tracks[0])


def test_audio_features_and_analysis_for_extended_apps(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, library: Library
) -> None:
    spotify_sim.mode = "extended"
    no_features = spotify_sim.state.add_track("no features")
    ids = [*library.tracks, *library.tracks, *library.tracks, *library.tracks, no_features]
    ids += [spotify_sim.state.add_track(f"x{n}", audio_features=None) for n in range(1)]
    features = gateway.audio_features(ids)
    assert features[no_features] is None
    first = features[library.tracks[0]]
    assert first is not None and first["tempo"] == 92.0
    assert gateway.calls["GET /audio-features"] == 1  # 34 distinct ids: one batch
    analysis = gateway.audio_analysis(library.tracks[0])
    assert analysis is not None
    assert [len(s["pitches"]) for s in analysis["segments"]] == [12, 12]
    assert gateway.audio_analysis(no_features) is None
