"""The local Deezer refuses what Deezer refuses, in Deezer's own error shape."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import httpx
import pytest
import soundfile

from service.deezer_sim import DeezerSim, DeezerSimTrack, PreviewSignal

TRACK = DeezerSimTrack(
    id=42, isrc="ZZSIM0000001", title="Aria, BWV 988", artist="Ida", duration_s=180,
    signal=PreviewSignal(7, 1, 80.0, -20.0, seconds=3.0), bpm=80.0, gain=-7.5, album="Goldberg",
)  # fmt: skip


@pytest.fixture
def deezer() -> Iterator[DeezerSim]:
    with DeezerSim([TRACK], quota=50) as sim:
        yield sim


def get(url: str, **params: str) -> httpx.Response:
    return httpx.get(url, params=params or None, timeout=10)


def test_a_track_by_isrc_has_preview_bpm_and_gain(deezer: DeezerSim) -> None:
    body = get(f"{deezer.root}track/isrc:zzsim0000001").json()
    assert (body["id"], body["isrc"], body["bpm"], body["gain"]) == (42, "ZZSIM0000001", 80.0, -7.5)
    clip = get(body["preview"])
    assert clip.status_code == 200 and clip.headers["content-type"] == "audio/mpeg"
    assert soundfile.info(io.BytesIO(clip.content)).duration == pytest.approx(3.0, abs=0.2)


def test_unknown_isrc_and_unknown_path_are_http_200_with_deezers_no_data_error(
    deezer: DeezerSim,
) -> None:
    for path in ("track/isrc:ZZNOPE0000001", "track/999", "no/such/thing"):
        answer = get(deezer.root + path)
        assert answer.status_code == 200
        assert answer.json() == {
            "error": {"type": "DataException", "message": "no data", "code": 800}
        }
    assert deezer.unknown_paths == ["/no/such/thing"]


def test_search_results_are_short_and_a_missing_query_is_refused(deezer: DeezerSim) -> None:
    hits = get(f"{deezer.root}search/track", q='artist:"ida" track:"aria"').json()["data"]
    assert [h["id"] for h in hits] == [42] and "isrc" not in hits[0] and "gain" not in hits[0]
    assert get(f"{deezer.root}search/track", q='artist:"nobody"').json()["data"] == []
    assert get(f"{deezer.root}search/track").json()["error"]["code"] == 501


def test_quota_is_deezers_code_4_and_writes_need_a_token() -> None:
    with DeezerSim([TRACK], quota=3) as deezer:  # Deezer's is 50 in 5 s
        answers = [get(f"{deezer.root}track/42").json() for _ in range(4)]
        posted = httpx.post(f"{deezer.root}track/42", timeout=10).json()
    assert "error" not in answers[2] and answers[3]["error"] == {
        "type": "Exception", "message": "Quota limit exceeded", "code": 4,
    }  # fmt: skip
    assert posted["error"]["type"] == "OAuthException"


def test_an_expired_or_forged_preview_url_is_the_cdns_403(deezer: DeezerSim) -> None:
    expired = deezer.preview_url(TRACK, expires=int(time.time()) - 1)
    forged = deezer.preview_url(TRACK).replace("hmac=", "hmac=0")
    assert get(expired).status_code == 403 and get(forged).status_code == 403
