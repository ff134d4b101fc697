"""The local Spotify's search keeps Spotify's documented rules (GET /search, ``q``).

From the Web API reference (``/work/shared/spotify/fixed-spotify-open-api.yml``):
``tag:new`` returns albums released in the past two weeks and applies to album
searches only; ``year`` is one year or a range; ``isrc`` applies to tracks;
``limit`` is 1-10 and ``offset`` at most 1,000, refused with 400 beyond.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from service.spotify_sim import SimState, SpotifySim

TODAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def catalogue(sim_state: SimState) -> dict[str, str]:
    """Albums of Bach by Hewitt at known ages, and one by someone else."""
    sim_state.clock = lambda: TODAY
    bach = sim_state.add_artist("Johann Sebastian Bach")
    hewitt = sim_state.add_artist("Angela Hewitt")
    other = sim_state.add_artist("A Jazz Quintet")
    ids: dict[str, str] = {}
    for label, days in (("today", 0), ("13 days", 13), ("14 days", 14), ("15 days", 15)):
        released = (TODAY.date() - timedelta(days=days)).isoformat()
        ids[label] = sim_state.add_album(
            f"Partitas ({label})", artist_ids=[bach, hewitt], release_date=released
        )
    ids["2019"] = sim_state.add_album("Goldberg", artist_ids=[bach, hewitt], release_date="2019")
    ids["2022"] = sim_state.add_album("Inventions", artist_ids=[bach], release_date="2022-05-01")
    ids["jazz"] = sim_state.add_album(
        "Kind of New", artist_ids=[other], release_date=TODAY.date().isoformat()
    )
    ids["isrc track"] = sim_state.add_track(
        "Aria", album_id=ids["2019"], artist_ids=[bach, hewitt], isrc="GBAYE1900001"
    )
    ids["other track"] = sim_state.add_track(
        "Variation 1", album_id=ids["2019"], artist_ids=[bach, hewitt], isrc="GBAYE1900002"
    )
    return ids


def _search(sim: SpotifySim, **params: Any) -> requests.Response:
    bearer = sim.issue_token()["access_token"]
    return requests.get(
        sim.api_base + "search",
        params=params,
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=10,
    )


def _album_ids(sim: SpotifySim, q: str, **params: Any) -> set[str]:
    response = _search(sim, q=q, type="album", limit=10, **params)
    assert response.status_code == 200, response.text
    return {a["id"] for a in response.json()["albums"]["items"]}


def test_tag_new_finds_albums_of_the_past_two_weeks_only(
    spotify_sim: SpotifySim, catalogue: dict[str, str]
) -> None:
    found = _album_ids(spotify_sim, 'tag:new artist:"Johann Sebastian Bach"')

    assert found == {catalogue["today"], catalogue["13 days"], catalogue["14 days"]}


def test_tag_new_applies_to_album_searches_only(
    spotify_sim: SpotifySim, catalogue: dict[str, str]
) -> None:
    response = _search(spotify_sim, q="tag:new Partitas", type="track", limit=10)

    assert response.status_code == 200
    assert response.json()["tracks"]["items"] == []


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        ("2019", {"2019"}),
        ("2020-2022", {"2022"}),
        ("2022-2019", {"2019", "2022"}),  # a range either way round
        ("2026", {"today", "13 days", "14 days", "15 days"}),
    ],
)
def test_year_filter_takes_one_year_or_a_range(
    spotify_sim: SpotifySim, catalogue: dict[str, str], year: str, expected: set[str]
) -> None:
    found = _album_ids(spotify_sim, f"artist:bach year:{year}")

    assert found == {catalogue[label] for label in expected}


def test_artist_and_album_filters_match_their_own_field(
    spotify_sim: SpotifySim, catalogue: dict[str, str]
) -> None:
    assert _album_ids(spotify_sim, 'artist:"Angela Hewitt" album:goldberg') == {catalogue["2019"]}
    assert _album_ids(spotify_sim, "album:hewitt") == set()


def test_isrc_finds_exactly_that_recording(
    spotify_sim: SpotifySim, catalogue: dict[str, str]
) -> None:
    response = _search(spotify_sim, q="isrc:GBAYE1900001", type="track", limit=10)

    items = response.json()["tracks"]["items"]
    assert [t["id"] for t in items] == [catalogue["isrc track"]]
    assert _album_ids(spotify_sim, "isrc:GBAYE1900001") == set()  # tracks only


def test_an_unknown_year_or_tag_is_refused(
    spotify_sim: SpotifySim, catalogue: dict[str, str]
) -> None:
    assert _search(spotify_sim, q="year:last", type="album").status_code == 400
    assert _search(spotify_sim, q="tag:old", type="album").status_code == 400


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": 10, "offset": 1000}, 200),
        ({"limit": 10, "offset": 1001}, 400),
        ({"limit": 11}, 400),
    ],
)
def test_page_and_offset_caps(
    spotify_sim: SpotifySim, catalogue: dict[str, str], params: dict[str, int], status: int
) -> None:
    assert _search(spotify_sim, q="bach", type="album", **params).status_code == status


def test_no_hit_past_the_thousandth_can_be_reached(sim_state: SimState) -> None:
    bach = sim_state.add_artist("Johann Sebastian Bach")
    for n in range(1005):
        sim_state.add_album(f"Cantatas {n}", artist_ids=[bach], release_date="2020-01-01")
    with SpotifySim(sim_state, mode="new", validate=True) as sim:
        near_end = _search(sim, q="cantatas", type="album", limit=10, offset=990).json()["albums"]
        at_cap = _search(sim, q="cantatas", type="album", limit=10, offset=1000).json()["albums"]

    assert near_end["total"] == 1005
    assert len(near_end["items"]) == 10
    assert near_end["next"] is None
    assert at_cap["items"] == []


def test_the_window_moves_with_the_catalogue_clock(
    spotify_sim: SpotifySim, catalogue: dict[str, str]
) -> None:
    spotify_sim.state.clock = lambda: TODAY + timedelta(days=2)

    assert _album_ids(spotify_sim, "tag:new bach") == {catalogue["today"]}
