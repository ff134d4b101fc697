"""Database faults: not reachable at start, lost in the middle of a job, two processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, func, select, text

from service.lock import process_lock
from service.store.tables import JobRun, Rating, Track

from .conftest import FaultTable, World


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(120)
def test_unreachable_database_at_start_retries_then_exits_1_with_a_message(
    tmp_path: Path, fault_table: FaultTable
) -> None:
    """A one-shot command waits the short schedule out (one line per attempt), then says
    "database unreachable" once; the daemon's longer schedule is tested in tests/store."""
    port = _closed_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACHBOT_", "SPOTIPY_"))}
    env |= {
        "BACHBOT_DATA_DIR": str(tmp_path / "data"),
        "BACHBOT_DATABASE_URL": f"postgresql://bachbot:hunter2-db-pass@127.0.0.1:{port}/bachbot",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    script = "import sys\nfrom service.cli import main\nsys.exit(main(['status']))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=100,
        cwd=tmp_path,
    )  # fmt: skip
    err = done.stderr
    lines = err.strip().splitlines()
    problems = []
    if done.returncode != 1:
        problems.append(f"exit code {done.returncode}, expected 1")
    if "Traceback" in err:
        problems.append("a traceback instead of a message")
    attempts = [line for line in lines if "not reachable (attempt" in line]
    if len(attempts) < 2 or len(attempts) != len(lines) - 1:
        problems.append("not one line per attempt plus one final line")
    final = lines[-1] if lines else ""
    if not final.startswith("bachbot: database unreachable") or "BACHBOT_DATABASE_URL" not in final:
        problems.append("the final message does not say what to check")
    if "hunter2-db-pass" in err + done.stdout:
        problems.append("the database password was printed")
    if (tmp_path / "data").exists():
        problems.append("a failed start created the data directory")
    fault_table.add(
        "database unreachable at start", tries=1, survived=not problems, data_lost="none"
    )
    assert not problems, f"{problems}\n{err}"


@pytest.mark.timeout(60)
def test_connection_lost_mid_job_commits_nothing_and_next_run_succeeds(
    world: World, engine: Engine
) -> None:
    """The database connection of the sync job dies while the job is writing."""
    if engine.dialect.name != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL (SQLite has no connection to lose)")
    before = world.warm_up()
    with world.sessions() as session:
        tracks_before = session.scalar(select(func.count()).select_from(Track))
    world.listener_likes(3)
    template = world.catalogue.tracks[0]
    state = world.sim.state
    album = state.add_album(
        "Bach: more", artist_ids=list(template.artist_ids), release_date="2026-10-30"
    )
    new = state.add_track(template.name, album_id=album, artist_ids=list(template.artist_ids))
    state.like("listener", new, world.clock[0])

    killer = create_engine(str(engine.url.render_as_string(hide_password=False)))
    bind = world.sessions.kw["bind"]
    armed = [True]
    killed: list[int] = []

    def terminate_own_backend(conn: object, cursor: Any, statement: str, *_args: object) -> None:
        """The server drops the job's connection just as it writes the first rating."""
        if armed[0] and statement.lstrip().upper().startswith("INSERT INTO RATINGS"):
            armed[0] = False
            pid = cursor.connection.info.backend_pid
            with killer.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                other.commit()
            killed.append(pid)

    event.listen(bind, "before_cursor_execute", terminate_own_backend)
    try:
        (faulted,) = world.run(1)
    finally:
        event.remove(bind, "before_cursor_execute", terminate_own_backend)
        killer.dispose()
    assert killed, "the sync job wrote no rating, so nothing was cut"
    sync = faulted.by_job()["sync"]
    assert sync.status == "failed", faulted.outcomes
    with world.sessions() as session:
        assert session.scalar(select(Track.id).where(Track.id == new)) is None, "half a sync"
        assert session.scalar(select(func.count()).select_from(Track)) == tracks_before
        assert session.scalar(select(func.count()).select_from(Rating)) == len(before.ratings)
        statuses = [
            s for (s,) in session.execute(select(JobRun.status).where(JobRun.job == "sync"))
        ]
        assert statuses[-1] == "failed"
    (clean,) = world.run(1)
    world.verify(
        "connection lost mid-job (pg_terminate_backend)", tries=1, before=before, clean=clean
    )
    with world.sessions() as session:
        assert session.scalar(select(Track.id).where(Track.id == new)) == new


@pytest.mark.timeout(60)
def test_second_process_exits_with_a_clear_message_while_the_lock_is_held(
    engine: Engine, cli: Callable[..., tuple[int, str, str]], fault_table: FaultTable
) -> None:
    problems = []
    with process_lock(engine, what="the test"):
        for command in (["sync"], ["run"]):
            code, out, err = cli(*command)
            if code != 1:
                problems.append(f"bachbot {command[0]} exited {code}, expected 1")
            if "another bachbot process" not in err or "Traceback" in err + out:
                problems.append(f"bachbot {command[0]} said: {err.strip()!r}")
    fault_table.add("two processes at once (lock)", tries=2, survived=not problems)
    assert not problems, problems
