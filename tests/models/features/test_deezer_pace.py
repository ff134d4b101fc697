"""bachbot keeps under Deezer's quota (50 API calls in 5 s) by spacing its calls."""

from __future__ import annotations

import httpx

from models.features.deezer import CallBudget, DeezerClient
from service.deezer_sim import DeezerSim, DeezerSimTrack, PreviewSignal

TRACK = DeezerSimTrack(
    id=7, isrc="ZZPACE000001", title="Aria, BWV 988", artist="Ida", duration_s=180,
    signal=PreviewSignal(7, 1, 80.0, -20.0, seconds=1.0), bpm=80.0, gain=-7.5, album="Goldberg",
)  # fmt: skip


def test_calls_are_spaced_by_the_pace_and_the_local_deezer_never_says_quota() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with DeezerSim([TRACK], quota=50) as dz, httpx.Client(timeout=10) as http:
        client = DeezerClient(
            http, base_url=dz.root, budget=CallBudget(100), min_interval_s=0.1,
            clock=lambda: now[0], sleep=sleep,
        )  # fmt: skip
        for _ in range(3):
            assert client.track_by_isrc("ZZPACE000001") is not None
            now[0] += 0.03  # the work between two calls
    assert waits == [0.07, 0.07] or (all(abs(w - 0.07) < 1e-9 for w in waits) and len(waits) == 2)


def test_the_default_pace_stays_under_deezers_quota() -> None:
    from service.settings import Settings

    per_second = Settings(_env_file=None).deezer_calls_per_second
    assert per_second * 5 < 50
