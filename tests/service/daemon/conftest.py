"""A small demo world in the local Spotify and a daemon wired to it on a random port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from models.catalogue_demo import DemoCatalogue, generate_catalogue
from service.daemon import Daemon
from service.demo_listener import HiddenTaste
from service.demo_world import ListenerWorld
from service.settings import Settings
from service.spotify_sim import SimState, SpotifySim
from service.store.tables import JobRun
from service.store.tokens import DbTokenStore
from service.wiring import wire

CATALOGUE = generate_catalogue(n_albums=8, seed=3, segments_per_track=0)


@pytest.fixture
def sim_state() -> SimState:
    """Overrides the Spotify fixtures' empty library with the demo world."""
    return ListenerWorld(CATALOGUE, HiddenTaste.for_catalogue(CATALOGUE, seed=3), seed=3).state()


@pytest.fixture
def catalogue() -> DemoCatalogue:
    return CATALOGUE


@pytest.fixture
def daemon_settings(spotify_settings: Settings, spotify_sim: SpotifySim) -> Settings:
    return spotify_settings.model_copy(
        update={
            "http_port": 0,
            "reccobeats_enabled": True,
            "reccobeats_base": spotify_sim.reccobeats_base,
            "min_ratings": 15,
            "cv_splits": 3,
            "cv_repeats": 1,
            "retrain_after_ratings": 1,
            "playlist_size": 10,
            "playlist_min_probability": 0.0,
            "sync_minutes": 60.0,
        }
    )


@dataclass
class Running:
    daemon: Daemon
    sessions: sessionmaker[Session]
    base_url: str

    def last_run_id(self, job: str) -> int:
        with self.sessions() as session:
            return (
                session.scalar(
                    select(JobRun.id).where(JobRun.job == job).order_by(JobRun.id.desc()).limit(1)
                )
                or 0
            )

    def run_cycle_now(self, timeout_s: float = 120.0) -> None:
        """Ask the scheduler for a cycle now and wait until its publish step is recorded."""
        import time
        from datetime import UTC, datetime

        before = self.last_run_id("publish")
        job = self.daemon.scheduler.get_job("cycle")
        assert job is not None
        job.modify(next_run_time=datetime.now(UTC))
        deadline = time.monotonic() + timeout_s
        while self.last_run_id("publish") == before or not self.daemon.idle.is_set():
            assert time.monotonic() < deadline, "the scheduled cycle did not finish"
            time.sleep(0.1)


@pytest.fixture
def start_daemon(
    daemon_settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    token_store: DbTokenStore,
) -> Iterator[Callable[[], Running]]:
    started: list[Daemon] = []
    clients: list[httpx.Client] = []

    def start() -> Running:
        client = httpx.Client(timeout=10)
        clients.append(client)
        cycle = wire(daemon_settings, engine=engine, http_client=client).cycle(train_fast=True)
        daemon = Daemon(daemon_settings, engine=engine, cycle=cycle, stop_timeout_s=60)
        daemon.start()
        started.append(daemon)
        return Running(daemon, sessions, f"http://127.0.0.1:{daemon.port}")

    yield start
    for daemon in started:
        daemon.stop()
    for client in clients:
        client.close()
