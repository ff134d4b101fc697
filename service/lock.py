"""One bachbot at a time per database: a lock that is held, not assumed.

A second ``bachbot run``, or a one-shot ``bachbot sync`` while the daemon
runs, would double every Spotify call and could publish twice.

**PostgreSQL: a session advisory lock on a dedicated connection, checked.**
The server releases a session lock the moment its connection ends, which is
what makes it right after ``kill -9`` (the next start finds it free at once),
and also what made it wrong after a network blip: the connection dropped, the
server let go, and the daemon carried on as if it still held it while a
second ``bachbot run`` started beside it.  So the lock now lives on a
connection of its own (keepalives and ``tcp_user_timeout`` on, so a silent
peer is noticed), and it is

* checked before every job and on the daemon's heartbeat (``pg_locks`` must
  show this connection holding it);
* a fence on every commit the process makes: the commit's own transaction
  asks the server whether the lock connection still holds the lock, and a
  commit without it raises :class:`~service.errors.LockLost` instead, so
  nothing is written between a drop and its discovery;
* taken back on a fresh connection when lost; if another process has it by
  then, the daemon stops with one line (:class:`~service.errors.LockTaken`).

A lease row (owner, heartbeat, expiry) was the alternative.  It survives
blips by design, but after ``kill -9`` the next start must wait out the
expiry (or guess that the owner is dead), every heartbeat is a write, and
an expiry short enough to restart quickly is short enough for a slow
database to let two owners overlap.  The advisory lock needs no clock and
no writes, and the fence closes the gap a lease closes with its expiry.

**SQLite: an ``flock`` on a file beside the database**, released by the
kernel when the process dies.  It cannot be lost silently; the check only
confirms that the lock file was not deleted and replaced under us.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from service.errors import LockHeld, LockLost, LockTaken
from service.store.connect import UNREACHABLE

log = logging.getLogger(__name__)

ADVISORY_KEY = 0x6261636862  # "bachb"
_KEY_HIGH, _KEY_LOW = ADVISORY_KEY >> 32, ADVISORY_KEY & 0xFFFFFFFF
HOLDS_SQL = (
    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = %s "
    "AND classid = %s AND objid = %s AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
HOLDER_SQL = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND classid = %s AND objid = %s AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
LOCK_CONNECTION = {
    "application_name": "bachbot lock",
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}
"""libpq options of the lock connection: a peer that stops answering is noticed within
about 10 s instead of the kernel's 15 minutes of retransmissions."""


class _Holder(Protocol):
    def try_take(self) -> bool: ...
    def still_held(self) -> bool: ...
    def confirm_in(self, conn: Connection) -> bool: ...
    def release(self) -> None: ...
    def holder_hint(self) -> str: ...


class _AdvisoryHolder:
    """A PostgreSQL session advisory lock on a connection of its own."""

    def __init__(self, engine: Engine, *, check_timeout_s: float) -> None:
        connect_args = {**LOCK_CONNECTION, "connect_timeout": max(2, int(check_timeout_s))}
        self.engine = create_engine(
            engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
            connect_args=connect_args,
        )  # fmt: skip
        self.check_timeout_s = check_timeout_s
        self.conn: Connection | None = None
        self.pid: int | None = None

    def try_take(self) -> bool:
        """Take the lock on a fresh connection.

        When the lock is still held by this process's previous lock connection
        (dropped by us, but the server has not noticed yet), that backend is
        ended and the lock tried once more: it is ours, not another process's.
        """
        stale = self._drop()
        conn = self.engine.connect()
        try:
            got, pid = self._take(conn)
            if not got and stale is not None and self._holder_pid(conn) == stale:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": stale})
                for _ in range(50):  # the backend ends within moments of the signal
                    got, pid = self._take(conn)
                    if got or self._holder_pid(conn) != stale:
                        break
                    time.sleep(0.1)
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self.conn, self.pid = conn, pid
        return True

    @staticmethod
    def _take(conn: Connection) -> tuple[bool, int]:
        got, pid = conn.execute(
            text("SELECT pg_try_advisory_lock(:k), pg_backend_pid()"), {"k": ADVISORY_KEY}
        ).one()
        return bool(got), int(pid)

    @staticmethod
    def _holder_pid(conn: Connection) -> int | None:
        row = conn.exec_driver_sql(HOLDER_SQL, (_KEY_HIGH, _KEY_LOW)).first()
        return None if row is None else int(row[0])

    def still_held(self) -> bool:
        """Ask on the lock connection itself, giving up after ``check_timeout_s``: a hung
        network path (a peer that acknowledges and never answers) counts as lost."""
        conn, pid = self.conn, self.pid
        if conn is None or pid is None:
            return False
        answer: list[bool] = []

        def ask() -> None:
            with contextlib.suppress(*UNREACHABLE):
                row = conn.exec_driver_sql(HOLDS_SQL, (pid, _KEY_HIGH, _KEY_LOW)).first()
                answer.append(row is not None)

        asking = threading.Thread(target=ask, name="lock-check", daemon=True)
        asking.start()
        asking.join(self.check_timeout_s)
        if asking.is_alive():  # unblock it: shut the socket down under libpq, never free it
            self._shutdown_socket(conn)
            asking.join(self.check_timeout_s)
        return bool(answer and answer[0])

    def confirm_in(self, conn: Connection) -> bool:
        """Whether the lock connection holds the lock, asked inside ``conn``'s transaction."""
        if self.pid is None:
            return False
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(HOLDS_SQL, (self.pid, _KEY_HIGH, _KEY_LOW))
            return cursor.fetchone() is not None
        finally:
            cursor.close()

    def release(self) -> None:
        conn = self.conn
        if conn is not None:
            with contextlib.suppress(*UNREACHABLE):
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
        self._drop()
        self.engine.dispose()

    def holder_hint(self) -> str:
        return ""

    def _drop(self) -> int | None:
        """Close the lock connection; the backend pid it had, if any."""
        conn, pid, self.conn, self.pid = self.conn, self.pid, None, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: closing cannot fail louder
                conn.invalidate()
                conn.close()
        return pid

    @staticmethod
    def _shutdown_socket(conn: Connection) -> None:
        with contextlib.suppress(Exception):
            fd = conn.connection.dbapi_connection.fileno()  # type: ignore[union-attr]
            sock = socket.socket(fileno=os.dup(fd))
            try:
                sock.shutdown(socket.SHUT_RDWR)
            finally:
                sock.close()


class _FileHolder:
    """An ``flock`` on ``<database>.lock``, with the holder's pid written in it."""

    def __init__(self, engine: Engine) -> None:
        database = make_url(str(engine.url)).database or "bachbot.db"
        self.path = Path(database).with_suffix(".lock")
        self.fd: int | None = None

    def try_take(self) -> bool:
        self.release()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return True

    def still_held(self) -> bool:
        if self.fd is None:
            return False
        try:
            ours, there = os.fstat(self.fd), os.stat(self.path)
        except FileNotFoundError:
            return False
        return (ours.st_dev, ours.st_ino) == (there.st_dev, there.st_ino)

    def confirm_in(self, conn: Connection) -> bool:
        return self.fd is not None

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def holder_hint(self) -> str:
        try:
            pid = self.path.read_text(errors="replace").strip()
        except OSError:
            pid = ""
        return f" (pid {pid or 'unknown'})"


class ProcessLock:
    """This process's hold on the database's bachbot lock: take, check, take back, release.

    Thread-safe: the daemon's job thread and its heartbeat both call :meth:`ensure`.
    """

    def __init__(self, engine: Engine, *, what: str = "bachbot", check_timeout_s: float = 10.0):
        self.engine = engine
        self.what = what
        self._holder: _Holder = (
            _AdvisoryHolder(engine, check_timeout_s=check_timeout_s)
            if engine.dialect.name == "postgresql"
            else _FileHolder(engine)
        )
        self._mutex = threading.RLock()
        self._held = False
        self._fenced = False

    @property
    def held(self) -> bool:
        return self._held

    @property
    def backend_pid(self) -> int | None:
        """PostgreSQL: the lock connection's server pid (a worker's commit fence asks for it)."""
        return self._holder.pid if isinstance(self._holder, _AdvisoryHolder) else None

    def acquire(self, *, wait_s: float = 0.0, sleep: Callable[[float], None] = time.sleep) -> None:
        """Take the lock, waiting up to ``wait_s``; :class:`LockHeld` names who has it."""
        deadline = time.monotonic() + wait_s
        with self._mutex:
            while not self._holder.try_take():
                if time.monotonic() >= deadline:
                    raise LockHeld(
                        f"another bachbot process{self._holder.holder_hint()} is working on "
                        f"this database, so {self.what} did not start; stop it (or wait for it) "
                        "and try again"
                    )
                sleep(0.5)
            self._held = True
            self._install_fence()

    def ensure(self) -> None:
        """Return if the lock is held; take it back if it was lost.

        Raises :class:`LockTaken` when another process holds it now, and the
        database's own error (``OperationalError``) when it cannot be asked.
        """
        with self._mutex:
            if self._confirmed():
                return
            if not self._holder.try_take():
                raise LockTaken(
                    f"{self.what} lost its database lock when the connection dropped, and "
                    f"another bachbot process{self._holder.holder_hint()} holds it now; this one "
                    "stops so that only one works on the database"
                )
            self._held = True
            log.warning("took the database lock back; work resumes")

    def confirm(self) -> None:
        """Raise :class:`LockLost` unless the lock is held right now (asked of the server).

        The check before a write that no commit fences: a Spotify write (see
        :class:`~service.spotify.gateway.SpotifyGateway`'s ``before_write``).
        """
        with self._mutex:
            if self._confirmed():
                return
        raise LockLost(
            f"{self.what} does not hold the database lock at the moment (its connection "
            "dropped), so nothing was written to Spotify; it is taken back when the database "
            "answers"
        )

    def _confirmed(self) -> bool:
        """Whether the lock is held now, asked of the server; a loss is logged once."""
        if self._held and self._holder.still_held():
            return True
        self._mark_lost()
        return False

    def _mark_lost(self) -> None:
        if self._held:
            self._held = False
            log.warning(
                "lost the database lock (its connection dropped); Spotify and database work "
                "pause until it is taken back"
            )

    def release(self) -> None:
        """Let go (never raises: a lock whose connection is gone is released already)."""
        with self._mutex:
            self._remove_fence()
            self._held = False
            self._holder.release()

    # --- the fence on commits -------------------------------------------------------------
    def _install_fence(self) -> None:
        if not self._fenced:
            event.listen(self.engine, "commit", self._fence)
            self._fenced = True

    def _remove_fence(self) -> None:
        if self._fenced:
            event.remove(self.engine, "commit", self._fence)
            self._fenced = False

    def _fence(self, conn: Connection) -> None:
        """Before every commit on the engine: refuse it unless the lock is held right now."""
        if self._held:
            try:
                if self._holder.confirm_in(conn):
                    return
            except Exception as err:  # the connection or transaction is broken: the commit
                log.debug("lock fence could not ask: %s", err)  # fails on it by itself
                return
            self._mark_lost()
        raise LockLost(
            f"{self.what} does not hold the database lock at the moment (its connection "
            "dropped), so nothing was written; it is taken back when the database answers"
        )


@contextlib.contextmanager
def process_lock(
    engine: Engine,
    *,
    wait_s: float = 0.0,
    what: str = "bachbot",
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[ProcessLock]:
    """Hold the database's bachbot lock for the block; wait up to ``wait_s`` for it.

    Raises :class:`LockHeld` naming who holds it (the pid, on SQLite) and what
    to do.  While held, every commit on ``engine`` is fenced (see the module
    docstring); a one-shot command simply fails its job if the lock is lost.
    """
    lock = ProcessLock(engine, what=what)
    lock.acquire(wait_s=wait_s, sleep=sleep)
    try:
        yield lock
    finally:
        lock.release()
