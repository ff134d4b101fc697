"""The features job against the local Spotify: a new app, a grandfathered app, caching."""

from __future__ import annotations

from datetime import timedelta

import httpx
import numpy as np
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from jobs.feature_matrix import load_matrix
from jobs.features import compute_features
from models.matrix import feature_schema
from service.settings import Settings
from service.spotify.errors import SpotifyAccountBlocked
from service.spotify.gateway import SpotifyGateway
from service.spotify_sim import SpotifySim
from service.spotify_sim.faults import Fault
from service.status import provider_status
from service.store.app_state import (
    CheckedMark,
    features_checked,
    provider_failing,
    provider_unavailable,
)
from service.store.features import save_features, tracks_missing_features
from service.store.tables import Feature, Track, utcnow
from tests.models.features.conftest import AddTracks, pitches, timbre

RECCO = "reccobeats GET /v1/audio-features"
FEATURES = "GET /audio-features"
ANALYSIS = "GET /audio-analysis/{id}"


@pytest.fixture
def recco_settings(spotify_settings: Settings) -> Settings:
    return spotify_settings.model_copy(update={"reccobeats_enabled": True})


def run(
    session: Session, gateway: SpotifyGateway, settings: Settings, client: httpx.Client
) -> dict[str, int]:
    report = compute_features(
        session=session, spotify=gateway, settings=settings, http_client=client
    )
    return report.stored


def stored(session: Session, provider: str) -> dict[str, dict[str, float] | None]:
    rows = session.scalars(select(Feature).where(Feature.provider == provider))
    return {row.track_id: row.values for row in rows}


def test_new_app_gets_403_once_then_uses_reccobeats_and_metadata(
    session: Session,
    spotify_sim: SpotifySim,
    gateway: SpotifyGateway,
    recco_settings: Settings,
    add_tracks: AddTracks,
    http_client: httpx.Client,
) -> None:
    ids = add_tracks(5)

    counts = run(session, gateway, recco_settings, http_client)

    assert spotify_sim.calls[FEATURES] == 1
    assert counts == {"reccobeats": 5, "metadata": 5}
    assert provider_unavailable("spotify_audio").get(session) is not None
    assert (
        "unavailable for this app"
        in provider_status(session=session, settings=recco_settings)["spotify_audio"]
    )
    matrix = load_matrix(session=session, track_ids=ids)
    energy = feature_schema().columns.index("audio.energy")
    assert matrix[:, energy].tolist() == pytest.approx([k / 100 for k in range(5)])

    spotify_sim.reset_calls()
    assert run(session, gateway, recco_settings, http_client) == {}
    assert spotify_sim.calls[FEATURES] == 0 and spotify_sim.calls[RECCO] == 0


def test_account_wide_403_on_audio_is_no_verdict_on_the_provider(
    session: Session,
    spotify_sim: SpotifySim,
    gateway: SpotifyGateway,
    spotify_settings: Settings,
    add_tracks: AddTracks,
    http_client: httpx.Client,
) -> None:
    """An extended-quota app whose owner lost Premium: /audio-features answers 403
    like everything else; the job must pause Spotify work, not switch audio off."""
    spotify_sim.mode = "extended"
    add_tracks(3)
    spotify_sim.faults.inject(FEATURES, Fault.owner_premium_lapsed(), times=1)
    with pytest.raises(SpotifyAccountBlocked, match="renew Premium"):
        run(session, gateway, spotify_settings, http_client)
    session.rollback()
    assert provider_unavailable("spotify_audio").get(session) is None
    assert provider_failing("spotify_audio").get(session) is None
    assert run(session, gateway, spotify_settings, http_client)["spotify_audio"] == 3


def test_grandfathered_app_stores_audio_with_segment_means(
    session: Session,
    spotify_sim: SpotifySim,
    gateway: SpotifyGateway,
    spotify_settings: Settings,
    add_tracks: AddTracks,
    http_client: httpx.Client,
) -> None:
    spotify_sim.mode = "extended"
    ids = add_tracks(3)
    add_tracks(1, audio=False, start=3)  # Spotify has nothing for this one

    counts = run(session, gateway, spotify_settings, http_client)

    assert counts == {"spotify_audio": 4, "metadata": 4}
    assert spotify_sim.calls[FEATURES] == 1
    assert spotify_sim.calls[ANALYSIS] == 4
    audio = stored(session, "spotify_audio")
    values = audio[ids[2]]
    assert values is not None
    assert values["energy"] == pytest.approx(0.002)
    for i in range(12):  # two segments: the mean of segment 0 and segment 1
        assert values[f"pitch_{i}"] == pytest.approx((pitches(0)[i] + pitches(1)[i]) / 2)
        assert values[f"timbre_{i}"] == pytest.approx((timbre(0)[i] + timbre(1)[i]) / 2)
    assert values["timbre_0"] == pytest.approx(5.0)  # (0 + 10) / 2, by hand
    assert audio["track00000000000000003"] is None

    spotify_sim.reset_calls()
    assert run(session, gateway, spotify_settings, http_client) == {}
    assert sum(spotify_sim.calls.values()) == 0


def test_rate_limited_reccobeats_stops_for_the_cycle_and_recovers_next(
    session: Session,
    spotify_sim: SpotifySim,
    gateway: SpotifyGateway,
    recco_settings: Settings,
    add_tracks: AddTracks,
    http_client: httpx.Client,
) -> None:
    add_tracks(3)
    spotify_sim.faults.inject(RECCO, Fault.rate_limited(120), times=1)

    report = compute_features(
        session=session, spotify=gateway, settings=recco_settings, http_client=http_client
    )

    assert report.retry_after_s == 120
    assert "reccobeats" in report.skipped and "reccobeats" not in report.stored
    assert report.stored["metadata"] == 3
    assert provider_failing("reccobeats").get(session) is not None

    again = compute_features(
        session=session, spotify=gateway, settings=recco_settings, http_client=http_client
    )
    assert again.stored == {"reccobeats": 3}
    assert provider_failing("reccobeats").get(session) is None


def test_disabled_reccobeats_is_never_called(
    session: Session,
    spotify_sim: SpotifySim,
    gateway: SpotifyGateway,
    spotify_settings: Settings,
    add_tracks: AddTracks,
    http_client: httpx.Client,
) -> None:
    add_tracks(2)
    report = compute_features(
        session=session, spotify=gateway, settings=spotify_settings, http_client=http_client
    )
    assert spotify_sim.calls[RECCO] == 0
    assert report.skipped["reccobeats"].startswith("disabled")


def test_rows_at_an_old_schema_version_are_due_again_and_ignored_by_the_matrix(
    session: Session, add_tracks: AddTracks
) -> None:
    ids = add_tracks(2)
    save_features(
        session=session, provider="metadata", schema_version=0, values={ids[0]: {"duration_s": 1.0}}
    )
    save_features(
        session=session, provider="metadata", schema_version=1, values={ids[1]: {"duration_s": 2.0}}
    )
    missing = tracks_missing_features(session=session, provider="metadata", schema_version=1)
    assert missing == [ids[0]]
    matrix = load_matrix(session=session, track_ids=ids)
    duration = feature_schema().columns.index("metadata.duration_s")
    assert np.isnan(matrix[0]).all()
    assert matrix[1, duration] == 2.0


def age_every_track(session: Session, *, days: int = 1) -> None:
    """Stamp every stored track as last changed ``days`` ago (before any pass's mark)."""
    session.execute(update(Track).values(updated_at=utcnow() - timedelta(days=days)))
    session.commit()


def test_after_a_complete_pass_only_new_tracks_are_asked_about(
    session: Session,
    spotify_sim: SpotifySim,
    gateway: SpotifyGateway,
    recco_settings: Settings,
    add_tracks: AddTracks,
    http_client: httpx.Client,
) -> None:
    old = add_tracks(3)
    age_every_track(session)
    assert run(session, gateway, recco_settings, http_client) == {"reccobeats": 3, "metadata": 3}
    # A row gone from under an old track: only a look at every track would find it, and
    # a cycle at 500,000 known tracks must not take that look.
    session.execute(delete(Feature).where(Feature.track_id == old[0]))
    session.commit()
    new = add_tracks(2, start=3)

    assert run(session, gateway, recco_settings, http_client) == {"reccobeats": 2, "metadata": 2}
    assert set(stored(session, "reccobeats")) == {*old[1:], *new}


def test_a_track_that_turns_out_to_be_bach_after_a_pass_is_described_next(
    session: Session,
    gateway: SpotifyGateway,
    recco_settings: Settings,
    add_tracks: AddTracks,
    http_client: httpx.Client,
) -> None:
    ids = add_tracks(2)
    track = session.get(Track, ids[1])
    assert track is not None
    track.is_bach = False
    session.commit()
    age_every_track(session)
    assert run(session, gateway, recco_settings, http_client) == {"reccobeats": 1, "metadata": 1}

    track.is_bach = True  # a re-read credits Bach: the row changes, so it is looked at
    session.commit()

    assert run(session, gateway, recco_settings, http_client) == {"reccobeats": 1, "metadata": 1}
    assert set(stored(session, "reccobeats")) == set(ids)


def test_a_new_schema_version_looks_at_every_track_again(
    session: Session, add_tracks: AddTracks
) -> None:
    ids = add_tracks(2)
    age_every_track(session)
    save_features(session=session, provider="metadata", schema_version=1, values={ids[1]: None})
    features_checked("metadata").put(session, CheckedMark.after_pass(1, started=utcnow()))

    assert (
        tracks_missing_features(
            session=session, provider="metadata", schema_version=1, changed_since=utcnow()
        )
        == []
    )
    mark = features_checked("metadata").get(session)
    assert mark is not None and mark.since(2) is None
    assert (
        tracks_missing_features(
            session=session, provider="metadata", schema_version=2, changed_since=mark.since(2)
        )
        == ids
    )


def test_stored_misses_are_due_again_after_a_mark(session: Session, add_tracks: AddTracks) -> None:
    ids = add_tracks(3)
    age_every_track(session, days=40)
    long_ago = utcnow() - timedelta(days=40)
    save_features(session=session, provider="reccobeats", schema_version=1,
                  values={ids[0]: None, ids[1]: {"energy": 0.1}}, fetched_at=long_ago,
                  reasons={ids[0]: "not found"})  # fmt: skip
    save_features(session=session, provider="reccobeats", schema_version=1,
                  values={ids[2]: None}, reasons={ids[2]: "not found"})  # fmt: skip

    due = tracks_missing_features(
        session=session, provider="reccobeats", schema_version=1,
        misses_before=utcnow() - timedelta(days=30), changed_since=utcnow() - timedelta(days=1),
    )  # fmt: skip

    assert due == [ids[0]]
