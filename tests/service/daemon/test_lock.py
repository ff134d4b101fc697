"""One bachbot per database: a second holder is refused with a message saying what to do."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.errors import LockHeld, LockLost, LockTaken
from service.lock import ADVISORY_KEY, process_lock
from service.settings import Settings
from service.spotify_sim import SpotifySim
from service.store.db import make_engine, transaction
from service.store.jobruns import start_job_run
from service.store.tables import JobRun
from service.store.tokens import DbTokenStore
from service.wiring import Wiring


def test_second_holder_is_refused_until_the_first_lets_go(
    engine: Engine, settings: Settings
) -> None:
    other = make_engine(settings)  # as another process would connect
    try:
        with process_lock(engine, what="bachbot run"):
            with (
                pytest.raises(LockHeld, match="another bachbot process") as refused,
                process_lock(other, what="bachbot sync"),
            ):
                pass
            assert "bachbot sync did not start" in str(refused.value)
            assert "stop it" in str(refused.value) or "stop the daemon" in str(refused.value)
        with process_lock(other, what="bachbot sync"):
            pass
    finally:
        other.dispose()


def test_waiting_holder_gets_the_lock_within_its_wait(engine: Engine, settings: Settings) -> None:
    import threading

    other = make_engine(settings)
    release = threading.Event()
    held = threading.Event()

    def first() -> None:
        with process_lock(engine):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert held.wait(10)
        threading.Timer(0.5, release.set).start()
        with process_lock(other, wait_s=20, what="bachbot sync"):
            assert not thread.is_alive() or release.is_set()
    finally:
        release.set()
        thread.join(10)
        other.dispose()


# --- a lock that is held, not assumed --------------------------------------------------------
def _postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a lock connection to drop exists on PostgreSQL only (SQLite: flock)")


def _lock_backend(other: Engine) -> int:
    """The server pid holding bachbot's advisory lock, as another session sees it."""
    with other.connect() as conn:
        pid = conn.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :hi AND objid = :lo "
                # Advisory keys are per database: another bachbot on the same server
                # (another checkout's tests) may hold the same key in its own.
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"hi": ADVISORY_KEY >> 32, "lo": ADVISORY_KEY & 0xFFFFFFFF},
        ).scalar_one()
    return int(pid)


def _drop(other: Engine, pid: int) -> None:
    with other.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        conn.commit()
        for _ in range(100):  # the server ends the backend a moment after the signal
            gone = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).scalar_one()
            if not gone:
                return
            time.sleep(0.05)


def _write_a_run(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        start_job_run(session=session, job="sync")


def _runs(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(JobRun)) or 0


def test_a_dropped_lock_connection_stops_writes_until_the_lock_is_taken_back(
    engine: Engine, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    _postgres_only(engine)
    other = make_engine(settings)
    try:
        with process_lock(engine, what="bachbot run") as lock:
            first = _lock_backend(other)
            _drop(other, first)

            with pytest.raises(LockLost, match="nothing was written"):
                _write_a_run(sessions)
            assert _runs(sessions) == 0

            lock.ensure()  # taken back on a fresh connection
            assert _lock_backend(other) != first
            _write_a_run(sessions)
            assert _runs(sessions) == 1
        with process_lock(other, what="bachbot sync"):  # released on the way out
            pass
    finally:
        other.dispose()


def test_a_lock_taken_by_another_process_after_a_drop_stops_this_one(
    engine: Engine, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    _postgres_only(engine)
    other = make_engine(settings)
    try:
        with process_lock(engine, what="bachbot run") as lock:
            _drop(other, _lock_backend(other))
            with process_lock(other, what="bachbot sync"):  # the second process gets there first
                with pytest.raises(LockTaken, match="another bachbot process holds it now"):
                    lock.ensure()
                with pytest.raises(LockLost):
                    _write_a_run(sessions)
                assert _runs(sessions) == 0
        # released quietly although its connection is long gone (SIGTERM after a lost lock)
    finally:
        other.dispose()


def test_a_lock_file_deleted_and_taken_by_another_process_stops_this_one(
    engine: Engine, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the lock file exists on SQLite only")
    other = make_engine(settings)
    try:
        with process_lock(engine, what="bachbot run") as lock:
            lock_file = Path(str(engine.url.database)).with_suffix(".lock")
            lock_file.unlink()
            with process_lock(other, what="bachbot sync"):
                with pytest.raises(LockTaken):
                    lock.ensure()
                with pytest.raises(LockLost):
                    _write_a_run(sessions)
    finally:
        other.dispose()


def test_a_process_without_its_lock_writes_nothing_to_spotify(
    engine: Engine,
    settings: Settings,
    spotify_settings: Settings,
    spotify_sim: SpotifySim,
    token_store: DbTokenStore,
    sessions: sessionmaker[Session],
) -> None:
    _postgres_only(engine)
    other = make_engine(settings)
    try:
        with process_lock(engine, what="bachbot run") as lock:
            wiring = Wiring(spotify_settings, engine, sessions, sleep=lambda _s: None)
            wiring.before_spotify_write = lock.confirm
            gateway = wiring.spotify
            assert gateway.me().id  # reading needs no lock check
            _drop(other, _lock_backend(other))

            with pytest.raises(LockLost, match="nothing was written to Spotify"):
                gateway.create_playlist("Predicted favourites", public=False, description="")
            assert spotify_sim.calls["POST /me/playlists"] == 0

            lock.ensure()
            gateway.create_playlist("Predicted favourites", public=False, description="")
            assert spotify_sim.calls["POST /me/playlists"] == 1
    finally:
        other.dispose()
