"""The daemon against the local Spotify with a scripted listener, seen as a user sees it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from service.spotify_sim import SpotifySim
from service.store.ratings import effective_ratings
from service.store.tables import ModelVersion, PlaylistKind, Publication, Rating, Track
from tests.plugins.spotify_fixtures import LISTENER
from tests.service.daemon.conftest import Running
from tests.service.status.chromium import Chromium, find_chromium

WRITES = ("POST /me/playlists", "PUT /playlists/{id}/items", "POST /playlists/{id}/items")


def _bot_playlists(sim: SpotifySim, name: str) -> list[str]:
    return sim.state.find_playlists(name)


def _last_publication(running: Running) -> Publication:
    """The newest publication of "Predicted favourites" ("Bach to rate" publishes too)."""
    with running.sessions() as session:
        pub = session.scalars(
            select(Publication)
            .where(Publication.playlist_kind == PlaylistKind.FAVOURITES)
            .order_by(Publication.id.desc())
        ).first()
        assert pub is not None
        return pub


@pytest.mark.timeout(300)
def test_daemon_learns_publishes_once_and_reacts_to_the_listener(
    start_daemon: Callable[[], Running], spotify_sim: SpotifySim
) -> None:
    running = start_daemon()
    name = running.daemon.settings.playlist_name
    running.run_cycle_now()

    # The first cycle: likes synced, a model promoted, exactly one playlist written.
    with running.sessions() as session:
        likes = session.scalars(select(Rating).where(Rating.source == "like")).all()
        assert len(likes) >= 5
        promoted = session.scalars(select(ModelVersion).where(ModelVersion.promoted)).all()
        assert len(promoted) == 1
    playlists = _bot_playlists(spotify_sim, name)
    assert len(playlists) == 1
    published = spotify_sim.state.playlist_track_ids(playlists[0])
    assert published == _last_publication(running).track_ids
    assert len(published) == 10

    # The listener likes two published tracks and removes one by hand.
    liked, removed = published[:2], published[5]
    from datetime import UTC, datetime

    for track_id in liked:
        spotify_sim.state.like(LISTENER, track_id, datetime.now(UTC))
    spotify_sim.state.remove_from_playlist(playlists[0], removed)
    running.run_cycle_now()

    with running.sessions() as session:
        ratings = effective_ratings(session=session)
    assert ratings[removed] == running.daemon.settings.removal_rating
    assert all(ratings[t] == running.daemon.settings.like_rating for t in liked)
    now_published = spotify_sim.state.playlist_track_ids(playlists[0])
    assert not {*liked, removed} & set(now_published)
    assert _bot_playlists(spotify_sim, name) == playlists

    # The removal arrived after that cycle's training, so one more cycle retrains on
    # it; after that nothing has changed: a cycle writes nothing, reads no items.
    running.run_cycle_now()
    now_published = spotify_sim.state.playlist_track_ids(playlists[0])
    spotify_sim.reset_calls()
    running.run_cycle_now()
    assert sum(spotify_sim.calls[r] for r in WRITES) == 0
    assert spotify_sim.calls["GET /playlists/{id}/items"] == 0
    # The minimum a quiet cycle needs: the playlists page and the first page of
    # Liked Songs (it starts with the newest known like). Nothing else.
    assert +spotify_sim.calls == {"GET /me/playlists": 1, "GET /me/tracks": 1}
    assert spotify_sim.state.playlist_track_ids(playlists[0]) == now_published

    # Health and metrics as an orchestrator and Prometheus see them.
    health = httpx.get(f"{running.base_url}/healthz").json()
    assert health["database"] and health["scheduler"]
    assert health["last_sync_age_s"] is not None
    metrics = httpx.get(f"{running.base_url}/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    runs = {
        (s.labels["job"], s.labels["status"]): s.value
        for s in families["bachbot_job_runs"].samples
        if s.name == "bachbot_job_runs_total"
    }
    assert runs[("publish", "ok")] == 4
    assert families["bachbot_tracks"].samples[0].value > 0
    assert any(s.value > 0 for s in families["bachbot_spotify_calls"].samples)
    # Each step's peak memory (score's is its worker's: the daemon trains and scores in one).
    peaks = {s.labels["job"]: s.value for s in families["bachbot_job_last_peak_rss_bytes"].samples}
    assert {"sync", "features", "score", "publish"} <= peaks.keys()
    assert all(v > 0 for v in peaks.values())
    assert families["bachbot_resident_memory_bytes"].samples[0].value > 0

    # A restart resumes on the same database: still one playlist, same list.
    assert running.daemon.stop()
    restarted = start_daemon()
    restarted.run_cycle_now()
    assert _bot_playlists(spotify_sim, name) == playlists
    assert (
        spotify_sim.state.playlist_track_ids(playlists[0]) == _last_publication(restarted).track_ids
    )


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_status_page_of_a_real_cycle_in_a_phone_browser(
    start_daemon: Callable[[], Running], spotify_sim: SpotifySim, tmp_path: Path
) -> None:
    browser = find_chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium for the status page test (scripts/test installs it)")
        pytest.skip("Chromium is not installed (apt-get install chromium): page not checked")
    running = start_daemon()
    running.run_cycle_now()
    published = _last_publication(running).track_ids
    assert len(published) == 10
    with running.sessions() as session:
        first = session.get(Track, published[0])
        assert first is not None

    shot = tmp_path / "status-page-after-a-cycle-390px.png"
    with Chromium(browser, tmp_path / "chromium") as chromium:
        seen = chromium.look(f"{running.base_url}/", width=390, mobile=True, screenshot=shot)
    assert shot.stat().st_size > 20_000
    assert seen["wide"] == [] and seen["scrollWidth"] <= 390 and seen["innerWidth"] == 390
    text = seen["text"]
    assert "Predicted favourites" in text and first.name in text
    assert "Connected to Spotify" in text
    assert "sync: " in text and "publish: playlist created (10 tracks)" in text
    assert "Baroque essentials (curated)" in text  # the unreadable followed playlist, and why
    assert "collaborat" in text
