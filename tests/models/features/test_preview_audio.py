"""The preview provider against the local Deezer: generated chords, measured back."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from models.features.audio import estimate_key
from models.features.base import Deferred, Missing, TrackForFeatures
from models.features.context import ProviderContext, Skipped
from models.features.errors import ProviderRateLimited, ProviderUnavailable
from models.features.preview_audio import PreviewAudioProvider
from service.deezer_sim import DeezerSim, DeezerSimTrack, PreviewSignal
from service.settings import Settings

SECONDS = 10.0
"""Short clips keep the tests quick; the analysis does not depend on the length."""
BACH = "5aIqB5nVVvmFsvSdExz408"


def sim_track(n: int, signal: PreviewSignal | None, **kw: object) -> DeezerSimTrack:
    fields: dict[str, object] = {
        "id": 100 + n,
        "isrc": f"ZZTST{n:07d}",
        "title": f"Cello Suite No. {n} in G Major, BWV 1007: I. Prélude",
        "artist": "Anna Virtanen",
        "duration_s": 150,
        "signal": signal,
        "bpm": 0.0,
        "gain": -9.5,
    }
    return DeezerSimTrack(**(fields | kw))  # type: ignore[arg-type]


def track(
    n: int, *, isrc: bool = True, seconds: float = 150.0, name: str | None = None
) -> TrackForFeatures:
    return TrackForFeatures(
        id=f"t{n}",
        name=name or f"Cello Suite No. {n} in G Major, BWV 1007: I. Prélude",
        artists=[
            {"id": BACH, "name": "Johann Sebastian Bach"},
            {"id": "p1", "name": "Anna Virtanen"},
        ],
        duration_ms=int(seconds * 1000),
        bwv="1007",
        isrc=f"ZZTST{n:07d}" if isrc else None,
    )


def chord(key: int, mode: int, tempo: float, rms_db: float = -20.0) -> PreviewSignal:
    return PreviewSignal(key, mode, tempo, rms_db, seconds=SECONDS)


def provider_for(
    dz: DeezerSim, settings: Settings, http: httpx.Client, tmp_path: Path, **extra: object
) -> PreviewAudioProvider:
    update = dz.settings_update() | {"data_dir": tmp_path, "composer_artist_ids": [BACH]} | extra
    built = PreviewAudioProvider.from_context(
        ProviderContext(settings=settings.model_copy(update=update), http_client=http)
    )
    assert isinstance(built, PreviewAudioProvider)
    return built


@pytest.mark.parametrize(
    "signal",
    [chord(7, 1, 100.0), chord(2, 0, 128.0), chord(9, 0, 90.0), chord(4, 1, 112.0)],
    ids=["G major 100", "D minor 128", "A minor 90", "E major 112"],
)
def test_generated_chords_give_chroma_maxima_on_their_pitch_classes_and_the_tempo(
    signal: PreviewSignal, settings: Settings, http_client: httpx.Client, tmp_path: Path
) -> None:
    with DeezerSim([sim_track(1, signal)]) as dz:
        values = provider_for(dz, settings, http_client, tmp_path).fetch([track(1)])["t1"]

    assert isinstance(values, dict)
    chroma = [values[f"chroma_{i}"] or 0.0 for i in range(12)]
    top = sorted(range(12), key=lambda i: -chroma[i])[:3]
    assert sorted(top) == sorted(signal.pitch_classes)
    assert values["tempo"] == pytest.approx(signal.tempo, rel=0.05)
    assert values["rms_db"] == pytest.approx(signal.rms_db, abs=1.5)
    assert all(values[f"mfcc_{i}"] is not None for i in range(12))
    assert values["deezer_gain"] == -9.5 and values["deezer_bpm"] is None  # 0 means unknown


def test_louder_previews_get_higher_loudness(
    settings: Settings, http_client: httpx.Client, tmp_path: Path
) -> None:
    levels = [-30.0, -22.0, -14.0]
    sims = [sim_track(n, chord(0, 1, 100.0, db)) for n, db in enumerate(levels, start=1)]
    with DeezerSim(sims) as dz:
        result = provider_for(dz, settings, http_client, tmp_path).fetch(
            [track(n) for n in (1, 2, 3)]
        )

    measured = [result[f"t{n}"]["rms_db"] for n in (1, 2, 3)]  # type: ignore[index]
    assert measured == sorted(measured) and len(set(measured)) == 3


def test_without_an_isrc_a_search_hit_must_agree_in_duration_and_bwv(
    settings: Settings, http_client: httpx.Client, tmp_path: Path
) -> None:
    other_take = sim_track(1, chord(0, 1, 100.0), isrc=None, id=501, duration_s=170)
    other_work = sim_track(
        1, chord(0, 1, 100.0), isrc=None, id=502, title="Cello Suite No. 1, BWV 1008: I. Prélude"
    )
    same = sim_track(1, chord(7, 1, 100.0), isrc=None, id=503, duration_s=151)
    with DeezerSim([other_take, other_work]) as dz:
        missed = provider_for(dz, settings, http_client, tmp_path).fetch([track(1, isrc=False)])
    with DeezerSim([other_take, other_work, same]) as dz:
        found = provider_for(dz, settings, http_client, tmp_path).fetch([track(1, isrc=False)])
        searched = dz.calls["search"]

    assert isinstance(missed["t1"], Missing) and "no search hit" in missed["t1"].reason
    assert isinstance(found["t1"], dict) and found["t1"]["key"] == 7.0
    assert found["t1"]["deezer_gain"] == -9.5  # read from the full track, not the search hit
    assert searched == 1


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("not_audio", "not readable audio"),
        ("truncated", "audio"),
        ("silent", "silent"),
        ("gone", "gone"),
        ("none", "no preview"),
    ],
)
def test_a_bad_preview_leaves_the_track_without_descriptors_with_a_reason(
    kind: str, words: str, settings: Settings, http_client: httpx.Client, tmp_path: Path
) -> None:
    sims = [sim_track(1, chord(0, 1, 100.0), preview=kind), sim_track(2, chord(5, 1, 120.0))]
    with DeezerSim(sims) as dz:
        result = provider_for(dz, settings, http_client, tmp_path).fetch([track(1), track(2)])

    assert isinstance(result["t1"], Missing) and words in result["t1"].reason
    assert isinstance(result["t2"], dict)  # the next track is still described


def test_an_unknown_isrc_without_a_search_hit_is_a_miss_not_an_error(
    settings: Settings, http_client: httpx.Client, tmp_path: Path
) -> None:
    with DeezerSim([]) as dz:
        result = provider_for(dz, settings, http_client, tmp_path).fetch([track(1)])
        assert dz.calls["track/isrc"] == 1 and dz.calls["search"] == 1

    assert isinstance(result["t1"], Missing) and "not on Deezer (ISRC" in result["t1"].reason


def test_a_429_with_a_long_retry_after_is_a_rate_limit_with_that_wait(
    settings: Settings, http_client: httpx.Client, tmp_path: Path
) -> None:
    with DeezerSim([sim_track(1, chord(0, 1, 100.0))]) as dz:
        dz.fail_next(429, retry_after=86_400)
        with pytest.raises(ProviderRateLimited) as caught:
            provider_for(dz, settings, http_client, tmp_path).fetch([track(1)])

    assert caught.value.retry_after_s == 86_400
    assert "429" in str(caught.value)


def test_deezers_quota_error_in_a_200_answer_is_a_rate_limit(
    settings: Settings, http_client: httpx.Client, tmp_path: Path
) -> None:
    with DeezerSim([], quota=1) as dz:
        provider = provider_for(dz, settings, http_client, tmp_path)
        with pytest.raises(ProviderRateLimited, match="Quota limit exceeded"):
            provider.fetch([track(1), track(2)])


def test_a_5xx_makes_the_provider_unavailable_for_this_cycle(
    settings: Settings, http_client: httpx.Client, tmp_path: Path
) -> None:
    with DeezerSim([]) as dz:
        dz.fail_next(503)
        with pytest.raises(ProviderUnavailable, match="503"):
            provider_for(dz, settings, http_client, tmp_path).fetch([track(1)])


def test_the_call_budget_defers_the_rest_to_the_next_cycle(
    settings: Settings, http_client: httpx.Client, tmp_path: Path
) -> None:
    sims = [sim_track(n, chord(0, 1, 100.0)) for n in (1, 2, 3)]
    with DeezerSim(sims) as dz:
        provider = provider_for(
            dz, settings, http_client, tmp_path, preview_audio_calls_per_cycle=3
        )
        result = provider.fetch([track(n) for n in (1, 2, 3)])
        calls = sum(dz.calls.values())

    assert isinstance(result["t1"], dict)  # ISRC + preview: two calls
    assert isinstance(result["t2"], Deferred) and isinstance(result["t3"], Deferred)
    assert calls == 3


def test_switched_off_by_its_setting(settings: Settings, http_client: httpx.Client) -> None:
    off = settings.model_copy(update={"preview_audio_enabled": False})
    built = PreviewAudioProvider.from_context(
        ProviderContext(settings=off, http_client=http_client)
    )
    assert isinstance(built, Skipped) and "BACHBOT_PREVIEW_AUDIO_ENABLED" in built.reason


@pytest.mark.parametrize(("tonic", "mode"), [(0, 1), (9, 0), (6, 1), (2, 0)])
def test_krumhansl_key_of_a_profile_shaped_chroma(tonic: int, mode: int) -> None:
    major = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
    minor = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
    profile = major if mode == 1 else minor
    chroma = [profile[(i - tonic) % 12] for i in range(12)]
    key = estimate_key(chroma)
    assert (key.pitch_class, key.mode) == (tonic, mode) and key.strength > 0.99
