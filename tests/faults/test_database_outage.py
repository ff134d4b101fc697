"""The database goes away in the middle of a job and comes back (a TCP proxy is cut, restored).

What a user sees: during the outage ``/healthz``, ``/`` and ``/metrics`` answer
503 with one line; the daemon's log says so once, and once more when the
database is back (no traceback per cycle); the interrupted job is then
closed as failed (with back-off) by the same process, and the next cycle
succeeds.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from service.daemon import Daemon
from service.demo_world import ListenerWorld
from service.lock import ProcessLock
from service.settings import Settings
from service.spotify_sim import Fault
from service.store.app_state import job_backoff
from service.store.db import make_engine, session_factory
from service.store.tables import JobRun

from .conftest import FaultTable, World, fault_settings
from .tcp_proxy import TcpProxy, proxy_to

HANG_S = 60.0


@pytest.fixture
def world_via_proxy(
    settings: Settings, engine: Engine, fault_table: FaultTable
) -> Iterator[tuple[World, TcpProxy]]:
    """The fault suite's world, with bachbot's database connections going through a proxy."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a database connection to cut exists on PostgreSQL (SQLite is a file)")
    listener = ListenerWorld.generate(n_albums=3, seed=3)
    sim = listener.serve()
    sim.start()
    with proxy_to(settings.resolved_database_url) as proxy:
        through = settings.model_copy(
            update={"database_url": proxy.url_through(settings.resolved_database_url)}
        )
        world_settings = fault_settings(through, sim)
        proxied = make_engine(world_settings)
        world = World(
            sim=sim, settings=world_settings, engine=proxied, sessions=session_factory(proxied),
            catalogue=listener.catalogue, taste=listener.taste, table=fault_table,
        )  # fmt: skip
        try:
            yield world, proxy
        finally:
            world.close()
            proxied.dispose()
            sim.stop()


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"hang guard: no {what} within {HANG_S:.0f} s")
        time.sleep(0.01)


def _sync_runs(engine: Engine) -> list[tuple[int, str, str | None]]:
    with engine.connect() as conn:
        return [
            (r.id, r.status, r.error)
            for r in conn.execute(
                select(JobRun.id, JobRun.status, JobRun.error)
                .where(JobRun.job == "sync")
                .order_by(JobRun.id)
            )
        ]


@pytest.mark.timeout(180)
def test_outage_mid_job_answers_503_logs_twice_then_records_the_failure_and_recovers(
    world_via_proxy: tuple[World, TcpProxy],
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world, proxy = world_via_proxy
    before = world.warm_up()
    world.listener_likes(2)
    lock = ProcessLock(world.wiring.engine, what="bachbot run")
    lock.acquire()
    daemon = Daemon(
        world.settings.model_copy(update={"http_port": 0}),
        engine=world.wiring.engine,
        cycle=world.cycle,
        lock=lock,
        heartbeat_s=0.2,
    )
    caplog.set_level(logging.INFO)
    world.sim.faults.inject("*", Fault.slow(0.3))  # sync lasts long enough to be cut
    seen_runs = _sync_runs(engine)
    daemon.start()
    base = f"http://127.0.0.1:{daemon.port}"
    try:
        _wait(lambda: any(s == "running" for _, s, _ in _sync_runs(engine)[len(seen_runs):]),
              "a running sync")  # fmt: skip
        cut_at = len(caplog.records)
        proxy.cut()
        _wait(lambda: daemon.outage.down_now and daemon.idle.is_set(), "the outage noticed")
        time.sleep(1.0)  # five heartbeats and more during the outage: still one log line
        during = {
            path: httpx.get(base + path, timeout=30) for path in ("/healthz", "/", "/metrics")
        }
        (interrupted,) = [r for r in _sync_runs(engine) if r[1] == "running"]

        world.sim.faults.clear()
        proxy.restore()
        _wait(lambda: not daemon.outage.down_now, "the database back")
        _wait(lambda: dict((i, s) for i, s, _ in _sync_runs(engine))[interrupted[0]] != "running",
              "the interrupted run closed")  # fmt: skip
        after_outage = caplog.records[cut_at:]
        (clean,) = world.run(1)  # the next cycle, once the back-off has passed
    finally:
        daemon.stop()
        lock.release()

    assert {path: r.status_code for path, r in during.items()} == {
        "/healthz": 503, "/": 503, "/metrics": 503,
    }  # fmt: skip
    assert during["/healthz"].json()["database"] is False
    for path in ("/", "/metrics"):
        body = during[path].text
        assert body.startswith("bachbot: database unreachable") and body.count("\n") == 1, body

    closed = dict((i, (s, e)) for i, s, e in _sync_runs(engine))[interrupted[0]]
    assert closed[0] == "failed" and "database connection was lost" in (closed[1] or ""), closed
    with world.sessions() as session:
        failing = job_backoff("sync").get(session)
    assert failing is None or failing.failures == 0, "the clean cycle did not clear the back-off"

    messages = [r.getMessage() for r in after_outage]
    assert sum("database unreachable" in m for m in messages) == 1, messages
    assert sum("database reachable again" in m for m in messages) == 1, messages
    assert not [r for r in after_outage if r.exc_info], "a traceback was logged"
    world.verify("database outage mid-job (proxy cut)", tries=1, before=before, clean=clean)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fault", ["cut", "freeze"])
def test_status_says_database_unreachable_while_the_database_is_away(
    settings: Settings, engine: Engine, tmp_path: Path, fault: str
) -> None:
    """Refused connections (``cut``) and a path that swallows everything (``freeze``)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("needs a PostgreSQL server to put a proxy in front of")
    url = settings.resolved_database_url
    with proxy_to(url) as proxy:
        getattr(proxy, fault)()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BACHBOT_", "SPOTIPY_"))}
        env |= {
            "BACHBOT_DATA_DIR": str(tmp_path / "data"),
            "BACHBOT_DATABASE_URL": proxy.url_through(url),
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        script = "import sys; from service.cli import main; sys.exit(main(['status']))"
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True,
            timeout=100, cwd=tmp_path,
        )  # fmt: skip
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1, done.stderr
    assert last.startswith("bachbot: database unreachable") and "Traceback" not in done.stderr
