"""The features job with the preview provider against the local Deezer (no Spotify needed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.features import compute_features
from service.deezer_sim import DeezerSim, DeezerSimTrack, PreviewSignal
from service.settings import Settings
from service.status_text import coverage_sentence
from service.store.features import feature_coverage
from service.store.ratings import add_rating
from service.store.tables import Feature, Track, utcnow

BACH = "5aIqB5nVVvmFsvSdExz408"


def add_track(session: Session, n: int, *, isrc: str | None) -> str:
    tid = f"track{n:017d}"
    session.add(
        Track(
            id=tid,
            name=f"Partita No. {n}, BWV 1004: I. Allemanda",
            artists=[{"id": BACH, "name": "Johann Sebastian Bach"}, {"id": "p", "name": "Ida"}],
            duration_ms=240_000,
            is_bach=True,
            bwv="1004",
            isrc=isrc,
        )
    )
    session.commit()
    return tid


def on_deezer(n: int, **kw: object) -> DeezerSimTrack:
    fields: dict[str, object] = {
        "id": 900 + n,
        "isrc": f"ZZJOB{n:07d}",
        "title": f"Partita No. {n}, BWV 1004: I. Allemanda",
        "artist": "Ida",
        "duration_s": 240,
        "signal": PreviewSignal(2, 0, 100.0, -20.0, seconds=6.0),
    }
    return DeezerSimTrack(**(fields | kw))  # type: ignore[arg-type]


@pytest.fixture
def deezer() -> Iterator[DeezerSim]:
    with DeezerSim([on_deezer(1), on_deezer(2, preview="not_audio")]) as sim:
        yield sim


@pytest.fixture
def preview_settings(settings: Settings, deezer: DeezerSim) -> Settings:
    return settings.model_copy(update=deezer.settings_update() | {"composer_artist_ids": [BACH]})


@pytest.fixture
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def run(session: Session, settings: Settings, client: httpx.Client) -> dict[str, int]:
    report = compute_features(session=session, spotify=None, settings=settings, http_client=client)
    return report.stored | {f"skipped {k}": 1 for k in report.skipped if k == "preview_audio"}


def rows(session: Session) -> dict[str, Feature]:
    found = session.scalars(select(Feature).where(Feature.provider == "preview_audio"))
    return {row.track_id: row for row in found}


def test_values_and_misses_with_reasons_are_stored_once(
    session: Session, deezer: DeezerSim, preview_settings: Settings, http_client: httpx.Client
) -> None:
    good = add_track(session, 1, isrc="ZZJOB0000001")
    bad = add_track(session, 2, isrc="ZZJOB0000002")
    absent = add_track(session, 3, isrc="ZZJOB0000003")

    assert run(session, preview_settings, http_client)["preview_audio"] == 3
    stored = rows(session)
    assert stored[good].values is not None and stored[good].values["key"] == 2.0
    assert stored[bad].values is None and "not readable audio" in (stored[bad].reason or "")
    assert stored[absent].values is None and "not on Deezer" in (stored[absent].reason or "")

    calls = sum(deezer.calls.values())
    assert "preview_audio" not in run(session, preview_settings, http_client)
    assert sum(deezer.calls.values()) == calls  # nothing fetched twice


def test_misses_are_asked_again_after_the_recheck_days(
    session: Session, deezer: DeezerSim, preview_settings: Settings, http_client: httpx.Client
) -> None:
    add_track(session, 3, isrc="ZZJOB0000003")
    run(session, preview_settings, http_client)
    asked = deezer.calls["track/isrc"]

    with time_machine.travel(utcnow() + timedelta(days=29), tick=False):
        assert "preview_audio" not in run(session, preview_settings, http_client)
    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        assert run(session, preview_settings, http_client)["preview_audio"] == 1
    assert deezer.calls["track/isrc"] == asked + 1


def test_a_long_retry_after_skips_the_provider_until_then_and_the_job_goes_on(
    session: Session, deezer: DeezerSim, preview_settings: Settings, http_client: httpx.Client
) -> None:
    tid = add_track(session, 1, isrc="ZZJOB0000001")
    deezer.fail_next(429, retry_after=86_400)

    report = compute_features(
        session=session, spotify=None, settings=preview_settings, http_client=http_client
    )

    assert report.stored.get("metadata") == 1  # the other providers ran
    assert "429" in report.skipped["preview_audio"] and tid not in rows(session)
    again = compute_features(
        session=session, spotify=None, settings=preview_settings, http_client=http_client
    )
    assert "waiting until" in again.skipped["preview_audio"]
    assert deezer.calls["track/isrc"] == 0  # the failed request is not counted as served
    with time_machine.travel(utcnow() + timedelta(days=1, minutes=1), tick=False):
        later = compute_features(
            session=session, spotify=None, settings=preview_settings, http_client=http_client
        )
    assert later.stored.get("preview_audio") == 1


def test_coverage_counts_known_and_new_tracks_with_values(
    session: Session, preview_settings: Settings, http_client: httpx.Client
) -> None:
    good = add_track(session, 1, isrc="ZZJOB0000001")
    add_track(session, 2, isrc="ZZJOB0000002")
    add_track(session, 3, isrc=None)
    add_rating(session=session, track_id=good, value=9, source="explicit")
    session.commit()
    run(session, preview_settings, http_client)

    coverage = feature_coverage(session=session, versions={"preview_audio": 1, "metadata": 1})

    preview = coverage["preview_audio"]
    assert (preview.known, preview.known_described, preview.new, preview.new_described) == (
        1, 1, 2, 0,
    )  # fmt: skip
    assert coverage["metadata"].new_described == 2
    assert coverage_sentence(preview) == (
        "describes 0% (0 of 2) of new tracks and 100% (1 of 1) of known (rated) ones"
    )


def test_a_spent_call_budget_leaves_the_rest_for_the_next_cycle(
    session: Session, deezer: DeezerSim, preview_settings: Settings, http_client: httpx.Client
) -> None:
    for n in range(1, 5):
        add_track(session, n, isrc=f"ZZJOB{n:07d}")
    tight = preview_settings.model_copy(update={"preview_audio_calls_per_cycle": 5})

    first = compute_features(session=session, spotify=None, settings=tight, http_client=http_client)
    second = compute_features(
        session=session, spotify=None, settings=tight, http_client=http_client
    )

    assert first.stored["preview_audio"] == 2  # 2 + 2 calls; the third track's lookup is the 5th
    assert "left for the next cycle" in first.skipped["preview_audio"]
    assert second.stored["preview_audio"] == 2 and len(rows(session)) == 4
