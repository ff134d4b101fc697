"""The local Spotify refuses what real Spotify refuses, asked over plain HTTP.

Each case is a request bachbot could plausibly send by mistake; the local
Spotify must answer with Spotify's status (and message), or a test against it
would pass where the real service fails.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from service.spotify.auth import SCOPE
from service.spotify_sim import SpotifySim, api
from service.spotify_sim.request_rules import RULES_PATH
from service.spotify_sim.spec import SpecViolation, request_rules, validate_body
from tests.plugins.spotify_fixtures import LISTENER
from tests.service.spotify.conftest import Library


def _call(
    sim: SpotifySim, method: str, path: str, *, scope: str | None = None, **kwargs: Any
) -> requests.Response:
    bearer = sim.issue_token(scope=scope)["access_token"]
    headers = {"Authorization": f"Bearer {bearer}"}
    return requests.request(method, sim.api_base + path, headers=headers, **kwargs)


def _message(response: requests.Response) -> str:
    return str(response.json()["error"]["message"])


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("offset=1000&limit=10", 200, None),
        ("offset=1001", 400, "Invalid offset"),
        ("offset=-1", 400, "Invalid offset"),
        ("limit=11", 400, "Invalid limit"),
        ("limit=0", 400, "Invalid limit"),
        ("limit=ten", 400, "Invalid limit"),
    ],
)
def test_search_offset_and_limit_are_capped(
    spotify_sim: SpotifySim, library: Library, query: str, status: int, message: str | None
) -> None:
    response = _call(spotify_sim, "GET", f"search?q=aria&type=track&{query}")
    assert response.status_code == status, response.text
    if message is not None:
        assert _message(response) == message


def test_bare_array_body_of_post_items_is_refused(
    spotify_sim: SpotifySim, library: Library
) -> None:
    before = list(spotify_sim.state.playlists[library.own_playlist].items)
    uris = [f"spotify:track:{library.tracks[0]}"]
    response = _call(spotify_sim, "POST", f"playlists/{library.own_playlist}/items", json=uris)
    assert (response.status_code, _message(response)) == (400, "No uris provided")
    assert spotify_sim.state.playlists[library.own_playlist].items == before


@pytest.mark.parametrize("position", ["abc", -1, 999, True])
def test_bad_position_is_refused(
    spotify_sim: SpotifySim, library: Library, position: object
) -> None:
    playlist = spotify_sim.state.playlists[library.own_playlist]
    before = list(playlist.items)
    body = {"uris": [f"spotify:track:{library.tracks[0]}"], "position": position}
    response = _call(spotify_sim, "POST", f"playlists/{library.own_playlist}/items", json=body)
    assert response.status_code == 400, response.text
    as_query = _call(
        spotify_sim,
        "POST",
        f"playlists/{library.own_playlist}/items",
        params={"uris": body["uris"][0], "position": str(position)},
    )
    assert as_query.status_code == 400, as_query.text
    assert playlist.items == before


def test_a_good_position_inserts_there(spotify_sim: SpotifySim, library: Library) -> None:
    playlist = spotify_sim.state.playlists[library.own_playlist]
    body = {"uris": [f"spotify:track:{library.tracks[5]}"], "position": 0}
    response = _call(spotify_sim, "POST", f"playlists/{library.own_playlist}/items", json=body)
    assert response.status_code == 201, response.text
    assert playlist.items[0].track_id == library.tracks[5]


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("PUT", "me/library?uris=spotify:track:{track}", SCOPE),  # bachbot's own scope
        ("DELETE", "me/library?uris=spotify:track:{track}", SCOPE),
        ("GET", "me/tracks", "playlist-read-private"),
        ("GET", "me/player/recently-played", "user-library-read"),
        ("POST", "playlists/{playlist}/items?uris=spotify:track:{track}", "user-library-read"),
    ],
)
def test_missing_scope_is_403(
    spotify_sim: SpotifySim, library: Library, method: str, path: str, scope: str
) -> None:
    url = path.format(track=library.tracks[-1], playlist=library.own_playlist)
    likes_before = dict(spotify_sim.state.users[LISTENER].likes)
    response = _call(spotify_sim, method, url, scope=scope)
    assert (response.status_code, _message(response)) == (403, "Insufficient client scope")
    assert spotify_sim.state.users[LISTENER].likes == likes_before
    assert _call(spotify_sim, method, url).status_code < 300  # with the scope it works


def test_bachbots_scope_is_enough_for_what_it_reads(
    spotify_sim: SpotifySim, library: Library
) -> None:
    for path in ("me", "me/playlists", "me/tracks", "me/albums", "me/top/tracks"):
        assert _call(spotify_sim, "GET", path, scope=SCOPE).status_code == 200, path


@pytest.mark.parametrize(
    ("redirect", "status"),
    [
        ("http://127.0.0.1:8888/callback", 302),
        ("http://[::1]:8888/callback", 302),
        ("https://bachbot.example.org/callback", 302),
        ("http://localhost:8888/callback", 400),
        ("http://192.168.1.5:8888/callback", 400),
    ],
)
def test_authorize_takes_only_secure_redirects(
    spotify_sim: SpotifySim, redirect: str, status: int
) -> None:
    response = requests.get(
        spotify_sim.accounts_base + "authorize",
        params={
            "client_id": spotify_sim.accounts.client_id,
            "response_type": "code",
            "redirect_uri": redirect,
        },
        allow_redirects=False,
    )
    assert response.status_code == status, response.text
    if status == 400:
        assert "redirect URI" in response.text


def test_authorize_takes_only_the_registered_redirect(spotify_sim: SpotifySim) -> None:
    spotify_sim.accounts.redirect_uris = frozenset({"http://127.0.0.1:8888/callback"})
    params = {"client_id": spotify_sim.accounts.client_id, "response_type": "code"}
    url = spotify_sim.accounts_base + "authorize"
    other = requests.get(
        url, params={**params, "redirect_uri": "http://127.0.0.1:8888/other"}, allow_redirects=False
    )
    assert (other.status_code, other.text) == (400, "INVALID_CLIENT: Invalid redirect URI")
    same = requests.get(
        url,
        params={**params, "redirect_uri": "http://127.0.0.1:8888/callback"},
        allow_redirects=False,
    )
    assert same.status_code == 302


@pytest.mark.parametrize("path", ["v1/playlist/abc", "v1/me/trakcs", "elsewhere"])
def test_unknown_path_is_404_and_fails_the_test(
    spotify_sim: SpotifySim, library: Library, path: str
) -> None:
    bearer = spotify_sim.issue_token()["access_token"]
    response = requests.get(spotify_sim.root + path, headers={"Authorization": f"Bearer {bearer}"})
    assert (response.status_code, _message(response)) == (404, "Service not found")
    with pytest.raises(SpecViolation, match="no such endpoint"):
        spotify_sim.assert_valid()
    spotify_sim.violations.clear()


def test_unlisted_status_is_a_violation_not_a_dropped_connection() -> None:
    assert validate_body("/me", "GET", 204, None) == ["GET /me documents no 204 response"]


def test_request_rules_file_matches_the_spec() -> None:
    """The runtime's rules are the spec's: regenerate the file when the spec changes."""
    routed = [(r.method, r.spec_path) for r in api.API_ROUTES if r.spec_path]
    on_disk = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    assert on_disk == request_rules(routed)
