"""``kill -9`` of a real ``bachbot run`` in the middle of sync, training and publish.

The daemon runs as a subprocess against the local Spotify served from this
test process (a real HTTP server on loopback) and the test's database.  For
each repetition the test waits until the chosen job is running (its job-run
row says ``running``), waits a seeded random moment more, and kills the
process with SIGKILL.  It then restarts ``bachbot run``, lets one whole cycle
finish, stops it with SIGTERM and checks what a user would see: one
"Predicted favourites", no track in it twice, every rating recorded before
the kill still there, and the promoted model's artifact present with the
sha256 the database recorded.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from models.catalogue_demo import BACH_ID
from service.demo_world import ListenerWorld
from service.settings import Settings
from service.spotify.auth import SCOPE
from service.spotify_sim import Fault, SpotifySim
from service.store.app_state import BOT_PLAYLIST
from service.store.db import make_engine, session_factory
from service.store.tables import JobRun, ModelVersion, Rating
from service.store.tokens import DbTokenStore

from .conftest import LISTENER, FaultTable

pytestmark = [pytest.mark.slow, pytest.mark.faults]

REPETITIONS = 2
KILL_WITHIN_S = {"sync": 0.3, "train": 0.02, "publish": 0.08}
"""The seeded kill lands this long at most after the job is seen running."""
WAIT_S = 90.0
"""Hang guard for one wait on the daemon (never an assertion on speed)."""


class Daemon:
    """``bachbot run`` as a child process with its own environment."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from service.cli import main; sys.exit(main(['run']))",
            ],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=self.env["BACHBOT_DATA_DIR"],
        )
        out.close()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=WAIT_S)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=WAIT_S)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def daemon_world(
    settings: Settings, tmp_path: Path
) -> Iterator[tuple[SpotifySim, Daemon, sessionmaker[Session], Engine]]:
    sim = ListenerWorld.generate(n_albums=3, seed=5).serve()
    sim.accounts.client_id = "kill-test-client"
    sim.accounts.client_secret = "kill-test-secret"
    with sim:
        engine = make_engine(settings)
        sessions = session_factory(engine)
        DbTokenStore(sessions).save_token_to_cache(sim.issue_token(LISTENER, scope=SCOPE))
        data_dir = settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("BACHBOT_", "SPOTIPY_"))
        }
        env |= {
            "BACHBOT_DATA_DIR": str(data_dir),
            "BACHBOT_DATABASE_URL": settings.resolved_database_url,
            "BACHBOT_SPOTIFY_CLIENT_ID": sim.accounts.client_id,
            "BACHBOT_SPOTIFY_CLIENT_SECRET": sim.accounts.client_secret,
            "BACHBOT_SPOTIFY_API_BASE": sim.api_base,
            "BACHBOT_SPOTIFY_ACCOUNTS_BASE": sim.accounts_base,
            "BACHBOT_RECCOBEATS_BASE": sim.reccobeats_base,
            "BACHBOT_RECCOBEATS_ENABLED": "true",
            "BACHBOT_COMPOSER_ARTIST_IDS": BACH_ID,
            "BACHBOT_SYNC_MINUTES": "0.02",
            "BACHBOT_HTTP_PORT": "0",
            "BACHBOT_MIN_RATINGS": "4",
            "BACHBOT_CV_SPLITS": "2",
            "BACHBOT_CV_REPEATS": "1",
            "BACHBOT_TRAIN_JOBS": "1",
            "BACHBOT_RETRAIN_AFTER_RATINGS": "1",
            "BACHBOT_PLAYLIST_SIZE": "12",
            "BACHBOT_PLAYLIST_MIN_PROBABILITY": "0",
            "BACHBOT_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        daemon = Daemon(env, tmp_path / "daemon.log")
        try:
            yield sim, daemon, sessions, engine
        finally:
            if daemon.alive():
                daemon.kill9()
            engine.dispose()


def _wait_for(condition: object, what: str, daemon: Daemon) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():  # type: ignore[operator]
        if not daemon.alive():
            pytest.fail(f"bachbot run exited while waiting for {what}:\n{daemon.output()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"hang guard: no {what} within {WAIT_S:.0f} s:\n{daemon.output()[-3000:]}")
        time.sleep(0.01)


def _max_run_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return max(session.scalars(select(JobRun.id)).all(), default=0)


def _running(sessions: sessionmaker[Session], job: str, after: int) -> bool:
    with sessions() as session:
        return (
            session.scalar(
                select(JobRun.id).where(
                    JobRun.job == job, JobRun.status == "running", JobRun.id > after
                )
            )
            is not None
        )


def _cycle_done(sessions: sessionmaker[Session], after: int) -> bool:
    """A publish run finished ok after ``after`` (the last step of a cycle)."""
    with sessions() as session:
        return (
            session.scalar(
                select(JobRun.id).where(
                    JobRun.job == "publish", JobRun.status == "ok", JobRun.id > after
                )
            )
            is not None
        )


def _ratings(sessions: sessionmaker[Session]) -> dict[int, tuple[str, int | None, str]]:
    with sessions() as session:
        return {r.id: (r.track_id, r.value, r.source) for r in session.scalars(select(Rating))}


def _problems(
    sim: SpotifySim, sessions: sessionmaker[Session], before: dict[int, tuple[str, int | None, str]]
) -> tuple[list[str], int]:
    found: list[str] = []
    after = _ratings(sessions)
    lost = [i for i, row in before.items() if after.get(i) != row]
    if lost:
        found.append(f"{len(lost)} rating(s) recorded before the kill are gone or changed")
    state = sim.state
    with state.lock:
        visible = [
            p
            for p in state.users[LISTENER].followed_playlists
            if p in state.playlists and state.playlists[p].name == "Predicted favourites"
        ]
    if len(visible) != 1:
        found.append(f"{len(visible)} playlists named 'Predicted favourites'")
    for pid in visible:
        items = state.playlist_track_ids(pid)
        if len(items) != len(set(items)):
            found.append(f"a track twice in {pid}")
    with sessions() as session:
        stored = BOT_PLAYLIST.get(session)
        promoted = session.scalars(
            select(ModelVersion).where(ModelVersion.promoted.is_(True))
        ).all()
    if visible and stored not in visible:
        found.append("the stored playlist id is not the listener's playlist")
    if len(promoted) > 1:
        found.append(f"{len(promoted)} models promoted at once")
    for model in promoted:
        path = Path(model.artifact_path or "")
        if not path.is_file():
            found.append(f"promoted model {model.version} has no artifact")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != model.sha256:
            found.append(f"promoted model {model.version}'s artifact does not match its sha256")
    return found, len(lost)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("job", ["sync", "train", "publish"])
def test_kill_9_during_a_job_loses_nothing(
    daemon_world: tuple[SpotifySim, Daemon, sessionmaker[Session], Engine],
    fault_table: FaultTable,
    job: str,
) -> None:
    sim, daemon, sessions, _ = daemon_world
    rng = random.Random(f"kill-{job}")
    # Spotify answers a little slowly, so the kill lands inside a job, not between calls.
    sim.faults.inject("*", Fault.slow(0.03))
    catalogue_ids = list(sim.state.tracks)
    survived, lost_total, problems, inside = True, 0, [], 0
    for repetition in range(REPETITIONS):
        # the listener likes two more tracks: new ratings, so training and publishing have work
        for track_id in rng.sample(catalogue_ids, 2):
            sim.state.like(LISTENER, track_id, datetime.now(UTC))
        mark = _max_run_id(sessions)
        daemon.start()
        _wait_for(lambda m=mark: _running(sessions, job, m), f"a running {job} job", daemon)
        time.sleep(rng.uniform(0.0, KILL_WITHIN_S[job]))
        before = _ratings(sessions)
        daemon.kill9()
        inside += _running(sessions, job, mark)  # the kill landed before the job finished

        mark = _max_run_id(sessions)
        daemon.start()
        _wait_for(lambda m=mark: _cycle_done(sessions, m), "a whole cycle after restart", daemon)
        code = daemon.stop()
        if code != 0:
            problems.append(f"bachbot run exited {code} on SIGTERM")
        found, lost = _problems(sim, sessions, before)
        problems += [f"repetition {repetition + 1}: {p}" for p in found]
        lost_total += lost
        survived = survived and not found and code == 0
    fault_table.add(
        f"kill -9 during {job} ({inside}/{REPETITIONS} inside the job)",
        tries=REPETITIONS,
        survived=survived,
        data_lost=f"{lost_total} rating(s)" if lost_total else "none",
    )
    assert not problems, "\n".join(problems) + "\n" + daemon.output()[-3000:]
