"""spotipy 2.26 helpers that break on the 2026 API, and the gateway calls that route around them.

Each test shows the gap is real (the plain spotipy helper fails against the
local Spotify) and that the gateway's way works, so a spotipy upgrade that
fixes a gap shows up here.
"""

from __future__ import annotations

import pytest
import spotipy

from service.spotify.auth import SCOPE
from service.spotify.gateway import SpotifyGateway
from service.spotify_sim import SpotifySim
from tests.plugins.spotify_fixtures import LISTENER
from tests.service.spotify.conftest import Library


@pytest.fixture
def plain_spotipy(spotify_sim: SpotifySim) -> spotipy.Spotify:
    client = spotipy.Spotify(auth=spotify_sim.issue_token()["access_token"], retries=0)
    client.prefix = spotify_sim.api_base
    return client


def test_batch_tracks_endpoint_is_gone_but_single_track_works(
    plain_spotipy: spotipy.Spotify,
    gateway: SpotifyGateway,
    spotify_sim: SpotifySim,
    library: Library,
) -> None:
    with pytest.raises(spotipy.SpotifyException) as caught:
        plain_spotipy.tracks(library.tracks[:2])
    assert caught.value.http_status == 404
    assert [v.route for v in spotify_sim.violations] == ["GET <unknown>"]
    spotify_sim.violations.clear()  # the unknown path was this test's point
    assert [gateway.track(t).id for t in library.tracks[:2]] == library.tracks[:2]


def test_artist_albums_default_limit_is_refused_but_gateway_pages_by_10(
    plain_spotipy: spotipy.Spotify, gateway: SpotifyGateway, library: Library
) -> None:
    with pytest.raises(spotipy.SpotifyException) as caught:
        plain_spotipy.artist_albums(library.bach)
    assert caught.value.http_status == 400 and "Invalid limit" in caught.value.msg
    assert len(gateway.artist_albums(library.bach, offset=0).items) == 10


def test_library_writes_need_a_scope_bachbot_does_not_ask_for(
    plain_spotipy: spotipy.Spotify, spotify_sim: SpotifySim, library: Library
) -> None:
    """bachbot never saves or removes Liked Songs, so it does not ask for
    user-library-modify; with its own scope Spotify refuses the write (403)."""
    ids = [spotify_sim.state.add_track(f"new {n}") for n in range(2)]
    own = spotipy.Spotify(auth=spotify_sim.issue_token(scope=SCOPE)["access_token"], retries=0)
    own.prefix = spotify_sim.api_base
    with pytest.raises(spotipy.SpotifyException) as caught:
        own._put("me/library", uris=",".join(f"spotify:track:{t}" for t in ids))
    assert caught.value.http_status == 403 and "Insufficient client scope" in caught.value.msg
    assert not set(ids) & set(spotify_sim.state.users[LISTENER].likes)
    many = [spotify_sim.state.add_track(f"t{n}") for n in range(41)]
    with pytest.raises(spotipy.SpotifyException) as caught:
        plain_spotipy.current_user_saved_tracks_add(many)  # all scopes, but 41 at once
    assert caught.value.http_status == 400


def test_search_default_limit_is_refused_above_10(
    plain_spotipy: spotipy.Spotify, gateway: SpotifyGateway, library: Library
) -> None:
    with pytest.raises(spotipy.SpotifyException) as caught:
        plain_spotipy.search("goldberg", limit=20)
    assert caught.value.http_status == 400
    assert len(gateway.search_tracks("goldberg", offset=0).items) == 10
