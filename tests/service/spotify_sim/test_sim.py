"""The local Spotify on its own: rules, limits, state, faults and spec conformance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from service.spotify_sim import Fault, SimState, SpotifySim
from service.spotify_sim.spec import SpecViolation, validate_body
from tests.plugins.spotify_fixtures import LISTENER
from tests.service.spotify.conftest import Library


def _get(sim: SpotifySim, path: str, token: str | None = None) -> requests.Response:
    bearer = token or sim.issue_token()["access_token"]
    return requests.get(sim.api_base + path, headers={"Authorization": f"Bearer {bearer}"})


def _send(sim: SpotifySim, method: str, path: str, **kwargs: Any) -> requests.Response:
    bearer = sim.issue_token()["access_token"]
    headers = {"Authorization": f"Bearer {bearer}"}
    return requests.request(method, sim.api_base + path, headers=headers, **kwargs)


# --- spec strictness --------------------------------------------------------------------
USER = {
    "account_id": "u",
    "display_name": "U",
    "external_urls": {"spotify": "https://open.spotify.com/user/u"},
    "href": "https://api.spotify.com/v1/users/u",
    "id": "u",
    "images": [],
    "type": "user",
    "uri": "spotify:user:u",
}


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({}, None),
        ({"display_name": None}, "None is not of type 'string'"),
        ({"country": "DE"}, "'country' was unexpected"),  # deprecated: absent for new apps
        ({"nickname": "x"}, "'nickname' was unexpected"),  # undocumented
        ({"images": [{"url": "x"}]}, "'height' is a required property"),
    ],
)
def test_validator_is_strict(change: dict[str, Any], complaint: str | None) -> None:
    errors = validate_body("/me", "GET", 200, {**USER, **change})
    if complaint is None:
        assert errors == []
    else:
        assert any(complaint in e for e in errors), errors


def test_validator_requires_every_documented_property() -> None:
    body = {k: v for k, v in USER.items() if k != "account_id"}
    assert any(
        "'account_id' is a required property" in e for e in validate_body("/me", "GET", 200, body)
    )


def test_off_spec_answers_are_caught(spotify_sim: SpotifySim, library: Library) -> None:
    """A catalogue with a stray feature name makes the sim answer off-spec: the test says so."""
    spotify_sim.mode = "extended"
    track = spotify_sim.state.tracks[library.tracks[0]]
    track.audio_features = {**(track.audio_features or {}), "popularity": 3}
    assert _get(spotify_sim, f"audio-features?ids={track.id}").status_code == 200
    with pytest.raises(SpecViolation, match=r"GET /audio-features.*'popularity' was unexpected"):
        spotify_sim.assert_valid()
    spotify_sim.violations.clear()


# --- 2026 rules and limits ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("search?q=aria&type=track&limit=10", 200),
        ("search?q=aria&type=track&limit=11", 400),
        ("me/tracks?limit=50", 200),
        ("me/tracks?limit=51", 400),
        ("tracks?ids=a,b", 404),  # batch GET /tracks is gone
        ("albums?ids=a,b", 404),  # batch GET /albums is gone
        ("playlists/nope/items", 404),
    ],
)
def test_limits_and_removed_endpoints(
    spotify_sim: SpotifySim, library: Library, path: str, status: int
) -> None:
    response = _get(spotify_sim, path)
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"]["message"] == "Invalid limit"
    if "ids=" in path:  # a removed endpoint is an unknown path: it would fail the test
        assert [v.route for v in spotify_sim.violations] == ["GET <unknown>"]
        spotify_sim.violations.clear()


def test_artist_albums_limit_above_10_is_invalid(spotify_sim: SpotifySim, library: Library) -> None:
    assert _get(spotify_sim, f"artists/{library.bach}/albums?limit=11").status_code == 400


def test_library_writes_take_at_most_40_uris(spotify_sim: SpotifySim, library: Library) -> None:
    uris = ",".join(f"spotify:track:{t}" for t in (library.tracks * 2)[:41])
    assert _send(spotify_sim, "PUT", f"me/library?uris={uris}").status_code == 400


def test_new_apps_cannot_read_items_of_followed_playlists(
    spotify_sim: SpotifySim, library: Library
) -> None:
    forbidden = _get(spotify_sim, f"playlists/{library.curated_playlist}/items")
    assert forbidden.status_code == 403
    assert "owns or collaborates" in forbidden.json()["error"]["message"]
    summary = _get(spotify_sim, f"playlists/{library.curated_playlist}").json()
    assert "items" not in summary and summary["name"] == "Baroque essentials"
    spotify_sim.mode = "extended"
    assert _get(spotify_sim, f"playlists/{library.curated_playlist}/items").status_code == 200


def test_only_owners_and_collaborators_write(spotify_sim: SpotifySim, library: Library) -> None:
    body = {"uris": [f"spotify:track:{library.tracks[0]}"]}
    assert (
        _send(
            spotify_sim, "POST", f"playlists/{library.curated_playlist}/items", json=body
        ).status_code
        == 403
    )
    assert (
        _send(
            spotify_sim, "POST", f"playlists/{library.collab_playlist}/items", json=body
        ).status_code
        == 201
    )


def test_snapshot_changes_on_every_write(spotify_sim: SpotifySim, library: Library) -> None:
    path = f"playlists/{library.own_playlist}/items"
    uri = f"spotify:track:{library.tracks[9]}"
    seen = {_get(spotify_sim, f"playlists/{library.own_playlist}").json()["snapshot_id"]}
    for method, body in [
        ("POST", {"uris": [uri]}),
        ("DELETE", {"items": [{"uri": uri}]}),
        ("PUT", {"uris": [uri]}),
    ]:
        seen.add(_send(spotify_sim, method, path, json=body).json()["snapshot_id"])
    spotify_sim.state.remove_from_playlist(library.own_playlist, library.tracks[9])
    seen.add(_get(spotify_sim, f"playlists/{library.own_playlist}").json()["snapshot_id"])
    assert len(seen) == 5


def test_scripted_user_actions_show_while_running(
    spotify_sim: SpotifySim, library: Library
) -> None:
    spotify_sim.state.like(LISTENER, library.tracks[20], datetime(2027, 1, 1, tzinfo=UTC))
    newest = _get(spotify_sim, "me/tracks?limit=1").json()["items"][0]
    assert (newest["track"]["id"], newest["added_at"]) == (
        library.tracks[20],
        "2027-01-01T00:00:00Z",
    )
    spotify_sim.state.unlike(LISTENER, library.tracks[20])
    assert (
        _get(spotify_sim, "me/tracks?limit=1").json()["items"][0]["track"]["id"]
        != (library.tracks[20])
    )


def test_reccobeats_drops_unknown_ids_and_names_the_spotify_id(
    spotify_sim: SpotifySim, library: Library
) -> None:
    ids = [library.tracks[1], "unknownid", library.tracks[0]]
    answer = requests.get(
        spotify_sim.reccobeats_base + "v1/audio-features", params={"ids": ",".join(ids)}
    )
    content = answer.json()["content"]
    assert sorted(c["href"].rsplit("/", 1)[-1] for c in content) == sorted(library.tracks[:2])
    too_many = ",".join(library.tracks[:32] + library.tracks[:9])
    assert (
        requests.get(
            spotify_sim.reccobeats_base + "v1/audio-features", params={"ids": too_many}
        ).status_code
        == 400
    )
    assert spotify_sim.calls["reccobeats GET /v1/audio-features"] == 2


# --- faults -------------------------------------------------------------------------------
def test_faults_hit_only_the_chosen_calls(spotify_sim: SpotifySim, library: Library) -> None:
    spotify_sim.faults.inject("GET /me", Fault.http(502), calls=[2])
    statuses = [_get(spotify_sim, "me").status_code for _ in range(3)]
    assert statuses == [200, 502, 200]
    assert spotify_sim.calls["GET /me"] == 3


def test_wildcard_faults_hit_every_route(spotify_sim: SpotifySim, library: Library) -> None:
    spotify_sim.faults.inject("*", Fault.rate_limited(9), times=2)
    first, second, third = (_get(spotify_sim, p) for p in ["me", "me/tracks", "me"])
    assert (first.status_code, first.headers["Retry-After"]) == (429, "9")
    assert (second.status_code, third.status_code) == (429, 200)


def test_expired_token_answers_401(spotify_sim: SpotifySim, library: Library) -> None:
    token = spotify_sim.issue_token()["access_token"]
    spotify_sim.accounts.expire_access_tokens()
    answer = _get(spotify_sim, "me", token)
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "The access token expired"


# --- accounts ----------------------------------------------------------------------------------
def test_token_endpoint_issues_and_refreshes_expiring_tokens(spotify_sim: SpotifySim) -> None:
    accounts = spotify_sim.accounts
    redirect = "http://127.0.0.1:9/callback"
    authorize = requests.get(
        spotify_sim.accounts_base + "authorize",
        params={
            "client_id": accounts.client_id,
            "response_type": "code",
            "redirect_uri": redirect,
            "state": "s1",
        },
        allow_redirects=False,
    )
    assert authorize.status_code == 302
    location = authorize.headers["Location"]
    assert location.startswith(redirect + "?code=") and location.endswith("state=s1")
    code = location.split("code=")[1].split("&")[0]
    auth = (accounts.client_id, accounts.client_secret)
    token = requests.post(
        spotify_sim.accounts_base + "api/token",
        auth=auth,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
    ).json()
    assert token["expires_in"] == 3600 and token["refresh_token"]
    reused = requests.post(
        spotify_sim.accounts_base + "api/token",
        auth=auth,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
    )
    assert reused.json()["error"] == "invalid_grant"
    refreshed = requests.post(
        spotify_sim.accounts_base + "api/token",
        auth=auth,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
    ).json()
    assert refreshed["access_token"] != token["access_token"]
    wrong = requests.post(
        spotify_sim.accounts_base + "api/token",
        auth=("x", "y"),
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
    )
    assert wrong.json()["error"] == "invalid_client"


# --- data files ---------------------------------------------------------------------------
def test_state_loads_from_a_data_file(tmp_path: Path) -> None:
    data = {
        "artists": [{"id": "bach", "name": "Johann Sebastian Bach"}],
        "albums": [{"id": "al", "name": "Partitas", "artist_ids": ["bach"]}],
        "tracks": [
            {
                "id": "t1",
                "name": "Partita No. 2, BWV 826: Sinfonia",
                "album_id": "al",
                "artist_ids": ["bach"],
                "isrc": "X1",
            }
        ],
        "users": [
            {
                "id": "me",
                "likes": [{"track_id": "t1", "added_at": "2026-01-01T00:00:00Z"}],
                "top_tracks": ["t1"],
            }
        ],
        "playlists": [
            {
                "id": "p",
                "name": "Mine",
                "owner_id": "me",
                "items": [{"track_id": "t1", "added_at": "2026-01-02T00:00:00Z"}],
            }
        ],
        "default_user": "me",
    }
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(data))
    state = SimState.load(path)
    with SpotifySim(state) as sim:
        saved = _get(sim, "me/tracks").json()["items"]
        items = _get(sim, "playlists/p/items").json()["items"]
        sim.assert_valid()
    assert [s["track"]["name"] for s in saved] == ["Partita No. 2, BWV 826: Sinfonia"]
    assert items[0]["added_at"] == "2026-01-02T00:00:00Z"
    assert state.users["me"].followed_playlists == ["p"]
