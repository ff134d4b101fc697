"""The PostgreSQL lock connection of a running ``bachbot run`` is dropped (pg_terminate_backend).

Before issue 18 the server let go of the lock, the daemon carried on as if it
held it, and a second ``bachbot run`` or a one-shot ``bachbot sync`` ran beside
it.  Now either the daemon takes the lock back first, and the second process
is refused; or the second process gets it first, and the daemon writes nothing
more and stops with one line.  Either way, never two at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.daemon_process import DaemonProcess, daemon_env
from service.demo_world import ListenerWorld, log_in
from service.errors import LockHeld
from service.lock import ADVISORY_KEY, process_lock
from service.settings import Settings
from service.store.db import make_engine
from service.store.tables import JobRun
from service.store.tokens import DbTokenStore

from .conftest import FaultTable

pytestmark = [pytest.mark.slow, pytest.mark.faults]

HANG_S = 90.0
"""Hang guard for one wait on the daemon (never an assertion on speed)."""


@pytest.fixture
def running_daemon(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[tuple[DaemonProcess, Callable[..., tuple[int, str]]]]:
    """``bachbot run`` in a child process on a small world, after its first whole cycle;
    and a way to run another ``bachbot`` command beside it (its exit code and output)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the lock connection exists on PostgreSQL (SQLite's flock cannot drop)")
    sim = ListenerWorld.generate(n_albums=2, seed=7, segments_per_track=0).serve()
    sim.accounts.client_id, sim.accounts.client_secret = "lock-test-client", "lock-test-secret"
    with sim:
        log_in(sim, DbTokenStore(sessions))
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env = daemon_env(
            sim, data_dir=settings.data_dir, database_url=settings.resolved_database_url,
            extra={"BACHBOT_TRAIN_JOBS": "1"},
        )  # fmt: skip
        daemon = DaemonProcess(env, tmp_path / "daemon.log", cwd=tmp_path)

        def beside(*args: str) -> tuple[int, str]:
            other = DaemonProcess(env, tmp_path / f"{args[0]}.log", cwd=tmp_path)
            other.start(*args)
            return other.wait(HANG_S), other.output()

        daemon.start()
        try:
            _wait(lambda: _publishes(sessions) > 0, "a first whole cycle", daemon)
            yield daemon, beside
        finally:
            if daemon.alive():
                daemon.kill9()


def _wait(condition: Callable[[], bool], what: str, daemon: DaemonProcess) -> None:
    deadline = time.monotonic() + HANG_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"hang guard: no {what}:\n{daemon.output()[-3000:]}")
        time.sleep(0.02)


def _publishes(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(JobRun)
                .where(JobRun.job == "publish", JobRun.status == "ok")
            )
            or 0
        )


def _runs(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.max(JobRun.id))) or 0


def _holder(engine: Engine) -> int | None:
    with engine.connect() as conn:
        pid = conn.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :hi AND objid = :lo"
            ),
            {"hi": ADVISORY_KEY >> 32, "lo": ADVISORY_KEY & 0xFFFFFFFF},
        ).scalar()
    return None if pid is None else int(pid)


def _terminate(engine: Engine, pid: int) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        conn.commit()


@pytest.mark.timeout(300)
def test_the_daemon_takes_its_dropped_lock_back_and_a_second_bachbot_is_refused(
    running_daemon: tuple[DaemonProcess, Callable[..., tuple[int, str]]],
    engine: Engine,
    sessions: sessionmaker[Session],
    fault_table: FaultTable,
) -> None:
    daemon, beside = running_daemon
    dropped = _holder(engine)
    assert dropped is not None, "the daemon holds no lock"
    _terminate(engine, dropped)
    _wait(
        lambda: (_holder(engine) or dropped) != dropped,
        "lock taken back by the daemon",
        daemon,
    )

    problems = []
    for command in (["sync"], ["run"]):
        code, said = beside(*command)
        if code != 1 or "another bachbot process" not in said or "Traceback" in said:
            problems.append(f"bachbot {command[0]} beside the daemon: exit {code}, {said!r}")
    runs = _runs(sessions)
    _wait(lambda: _runs(sessions) > runs, "the daemon's next job", daemon)
    code = daemon.stop()
    if code != 0 or "Traceback" in daemon.output():
        problems.append(f"the daemon exited {code} on SIGTERM:\n{daemon.output()[-2000:]}")
    if "took the database lock back" not in daemon.output():
        problems.append("the daemon did not say it took the lock back")
    fault_table.add("lock connection dropped, daemon first", tries=1, survived=not problems)
    assert not problems, "\n".join(problems)


@pytest.mark.timeout(300)
def test_when_another_bachbot_takes_the_dropped_lock_the_daemon_writes_nothing_and_stops(
    running_daemon: tuple[DaemonProcess, Callable[..., tuple[int, str]]],
    engine: Engine,
    settings: Settings,
    sessions: sessionmaker[Session],
    fault_table: FaultTable,
) -> None:
    daemon, _ = running_daemon
    second = make_engine(settings)  # the second bachbot, getting there first
    problems: list[str] = []
    try:
        for _attempt in range(5):
            dropped = _holder(engine)
            assert dropped is not None, "the daemon holds no lock"
            _terminate(engine, dropped)
            try:
                with process_lock(second, wait_s=2.0, sleep=lambda _s: time.sleep(0.005)):
                    taken_at = _runs(sessions)
                    code = daemon.wait(HANG_S)
                    written = _runs(sessions) - taken_at
                break
            except LockHeld:
                continue  # the daemon took it back first: drop it again
        else:
            pytest.fail("the daemon always took its lock back first")
    finally:
        second.dispose()
    output = daemon.output()
    last = output.strip().splitlines()[-1] if output.strip() else ""
    if code != 1:
        problems.append(f"exit code {code}, expected 1")
    if written:
        problems.append(f"the daemon started {written} job run(s) after it lost the lock")
    if not last.startswith("bachbot: bachbot run lost its database lock") or "Traceback" in output:
        problems.append(f"not one clear line: {output[-1500:]}")
    fault_table.add("lock connection dropped, other first", tries=1, survived=not problems)
    assert not problems, "\n".join(problems)


@pytest.mark.timeout(300)
def test_sigterm_right_after_the_lock_connection_dropped_exits_cleanly(
    running_daemon: tuple[DaemonProcess, Callable[..., tuple[int, str]]],
    engine: Engine,
    fault_table: FaultTable,
) -> None:
    """It used to exit 1 with an OperationalError traceback from pg_advisory_unlock."""
    daemon, _ = running_daemon
    dropped = _holder(engine)
    assert dropped is not None, "the daemon holds no lock"
    _terminate(engine, dropped)
    code = daemon.stop()
    output = daemon.output()
    survived = code == 0 and "Traceback" not in output and "OperationalError" not in output
    fault_table.add("SIGTERM after the lock connection dropped", tries=1, survived=survived)
    assert survived, f"exit {code}:\n{output[-2000:]}"
    with process_lock(engine, what="the test"):  # and nothing holds the lock any more
        pass
