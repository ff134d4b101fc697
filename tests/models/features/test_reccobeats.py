"""ReccoBeats against the local Spotify's compatible endpoint (never the internet)."""

from __future__ import annotations

import httpx
import pytest

from models.features.base import TrackForFeatures
from models.features.errors import ProviderRateLimited, ProviderUnavailable
from models.features.reccobeats import ReccoBeatsProvider, match_items, spotify_id_from_href
from service.spotify_sim import SpotifySim
from service.spotify_sim.faults import Fault
from tests.models.features.conftest import AddTracks

ROUTE = "reccobeats GET /v1/audio-features"


def as_tracks(ids: list[str]) -> list[TrackForFeatures]:
    return [TrackForFeatures(id=i, name="x") for i in ids]


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("https://api.reccobeats.com/v1/track/4uLU6hMCjMI75M1A2tKUQC", "4uLU6hMCjMI75M1A2tKUQC"),
        ("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC/", "4uLU6hMCjMI75M1A2tKUQC"),
        ("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC?si=x", "4uLU6hMCjMI75M1A2tKUQC"),
        ("", None),
    ],
)
def test_spotify_id_is_read_from_the_end_of_href(href: str, expected: str | None) -> None:
    assert spotify_id_from_href(href) == expected


def test_items_are_matched_by_href_not_by_position() -> None:
    content = [
        {"href": "https://x/track/b", "energy": 0.2},
        {"href": "https://x/track/a", "energy": 0.1},
        {"href": "https://x/track/zzz", "energy": 0.9},  # not asked for: ignored
    ]
    result = match_items(["a", "b", "c"], content)
    assert result["a"] is not None and result["a"]["energy"] == 0.1
    assert result["b"] is not None and result["b"]["energy"] == 0.2
    assert result["c"] is None
    assert "zzz" not in result


def test_batches_of_forty_unknown_ids_dropped_and_order_ignored(
    spotify_sim: SpotifySim, add_tracks: AddTracks, http_client: httpx.Client
) -> None:
    known = add_tracks(43)
    unknown = ["unknown0000000000000001", "unknown0000000000000002"]
    ids = list(reversed(known)) + unknown
    provider = ReccoBeatsProvider(http_client, base_url=spotify_sim.reccobeats_base)

    result = provider.fetch(as_tracks(ids))

    assert spotify_sim.calls[ROUTE] == 2  # 45 ids: 40 + 5
    assert set(result) == set(ids)
    for k, tid in enumerate(known):
        values = result[tid]
        assert values is not None and values["energy"] == pytest.approx(k / 100)
    assert result[unknown[0]] is None and result[unknown[1]] is None


def test_rate_limit_raises_with_the_wait(
    spotify_sim: SpotifySim, add_tracks: AddTracks, http_client: httpx.Client
) -> None:
    ids = add_tracks(3)
    spotify_sim.faults.inject(ROUTE, Fault.rate_limited(30), times=1)
    provider = ReccoBeatsProvider(http_client, base_url=spotify_sim.reccobeats_base)
    with pytest.raises(ProviderRateLimited) as caught:
        provider.fetch(as_tracks(ids))
    assert caught.value.retry_after_s == 30
    assert "429" in str(caught.value)


@pytest.mark.parametrize("fault", [Fault.http(503), Fault.malformed_json(), Fault.reset()])
def test_server_failures_become_provider_unavailable(
    spotify_sim: SpotifySim, add_tracks: AddTracks, http_client: httpx.Client, fault: Fault
) -> None:
    ids = add_tracks(2)
    spotify_sim.faults.inject(ROUTE, fault, times=1)
    provider = ReccoBeatsProvider(http_client, base_url=spotify_sim.reccobeats_base)
    with pytest.raises(ProviderUnavailable, match="ReccoBeats"):
        provider.fetch(as_tracks(ids))
