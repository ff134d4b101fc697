"""BACHBOT_FREEZE_EVERY_DAYS: the cycle keeps a dated copy once per period, after publish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings
from service.spotify_sim import SpotifySim
from service.store.tables import JobRun
from service.store.tokens import DbTokenStore
from service.wiring import wire


def test_cycle_freezes_once_per_period_and_never_touches_the_copy_again(
    daemon_settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    token_store: DbTokenStore,
    spotify_sim: SpotifySim,
) -> None:
    settings = daemon_settings.model_copy(update={"freeze_every_days": 7})
    now = [datetime(2026, 11, 1, 8, 0, tzinfo=UTC)]
    with httpx.Client(timeout=10) as client:
        cycle = wire(settings, engine=engine, clock=lambda: now[0], http_client=client).cycle(
            train_fast=True
        )
        first = cycle.run_once()
        assert first.succeeded("publish") and first.succeeded("freeze")
        (copy,) = spotify_sim.state.find_playlists("Predicted favourites 2026-11-01")
        kept = spotify_sim.state.playlist_track_ids(copy)
        (bot,) = spotify_sim.state.find_playlists("Predicted favourites")
        assert kept == spotify_sim.state.playlist_track_ids(bot) and len(kept) == 10
        snapshot = spotify_sim.state.playlists[copy].snapshot_id

        now[0] += timedelta(days=1)
        assert "freeze" not in cycle.run_once().by_job()
        now[0] += timedelta(days=6)
        assert cycle.run_once().succeeded("freeze")
        assert len(spotify_sim.state.find_playlists("Predicted favourites 2026-11-08")) == 1
    assert spotify_sim.state.playlists[copy].snapshot_id == snapshot
    assert spotify_sim.state.playlist_track_ids(copy) == kept
    with sessions() as session:
        runs = session.scalars(select(JobRun.job).where(JobRun.job == "freeze")).all()
    assert len(runs) == 2
