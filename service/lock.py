"""One bachbot at a time per database.

A second ``bachbot run``, or a one-shot ``bachbot sync`` while the daemon
runs, would double every Spotify call and could publish twice.  The lock is a
PostgreSQL session advisory lock (released by the server when the process
dies, even on ``kill -9``), or for SQLite an ``flock`` on a file beside the
database (released by the kernel the same way).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from service.errors import LockHeld

ADVISORY_KEY = 0x6261636862  # "bachb"


def _lock_path(engine: Engine) -> Path:
    database = make_url(str(engine.url)).database or "bachbot.db"
    return Path(database).with_suffix(".lock")


@contextlib.contextmanager
def process_lock(
    engine: Engine,
    *,
    wait_s: float = 0.0,
    what: str = "bachbot",
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the database's bachbot lock for the block; wait up to ``wait_s`` for it.

    Raises :class:`LockHeld` naming who holds it (the pid, on SQLite) and what to do.
    """
    deadline = time.monotonic() + wait_s
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            while not conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
            ).scalar():
                if time.monotonic() >= deadline:
                    raise LockHeld(
                        f"another bachbot process is working on this database, so {what} "
                        "did not start; stop the daemon (or wait for it) and try again"
                    )
                sleep(0.5)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                conn.commit()
        return

    path = _lock_path(engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                    raise LockHeld(
                        f"another bachbot process (pid {holder}) is working on this database, "
                        f"so {what} did not start; stop it (or wait for it) and try again"
                    ) from None
                sleep(0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
