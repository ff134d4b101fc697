"""``bachbot run``: the long-running service.

Wires the cycle (:mod:`service.cycle`) into APScheduler 3 and serves the HTTP
app beside it (:mod:`service.http_server`).  Decisions and why:

* one worker thread for jobs, ``coalesce=True``, ``max_instances=1``: jobs
  never overlap, so SQLite sees one writer and a slow cycle never piles up;
* the process lock (:mod:`service.lock`) is held for the daemon's lifetime,
  and checked - before every job and on a heartbeat every few seconds - not
  assumed: when its connection drops, work pauses (every commit is fenced)
  until it is taken back, and if another bachbot holds it by then this one
  stops with one line (:class:`~service.errors.LockTaken`, exit 1);
* the heartbeat also asks the database whether it answers, so an outage and
  its end are one log line each (:mod:`service.outage`), and a job the
  outage interrupted is closed as failed, with back-off, as soon as the
  database is back (:class:`service.jobrunner.Unrecorded`);
* SIGTERM/SIGINT stop new work at once; the running job gets
  ``stop_timeout_s`` to finish, after which the process exits anyway and the
  database rolls the open transaction back (every job commits atomically).
  A lock whose connection is already gone is released without a word.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, text

from service.cycle import Cycle
from service.errors import LockLost, LockTaken
from service.http import CallbackHandler, build_app, pages_closed
from service.http_server import HttpLimits, HttpServer
from service.lock import ProcessLock, process_lock
from service.login import complete_pending
from service.outage import Outage
from service.settings import Settings
from service.store.connect import DAEMON, UNREACHABLE
from service.store.db import hide_password, open_database, session_factory, transaction
from service.store.jobruns import close_interrupted_runs
from service.wiring import wire

log = logging.getLogger("bachbot.daemon")

HEARTBEAT_S = 5.0
"""Seconds between the daemon's checks of its lock and its database."""


class Daemon:
    """The scheduler, the HTTP server, the heartbeat and the cycle, started and stopped together.

    ``lock``: the process lock held by :func:`run_daemon`; tests that drive a
    daemon in-process without one leave it None.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        cycle: Cycle | None = None,
        on_callback: CallbackHandler | None = None,
        stop_timeout_s: float = 30.0,
        lock: ProcessLock | None = None,
        heartbeat_s: float = HEARTBEAT_S,
        http_limits: HttpLimits | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or open_database(settings)
        if cycle is None:
            wiring = wire(settings, engine=self.engine)
            wiring.before_spotify_write = None if lock is None else lock.confirm
            cycle = wiring.cycle()
            # the daemon trains and scores in a worker process: between cycles it holds
            # no model code (see service.ml_worker)
            cycle.isolate_ml = True
            cycle.lock_pid = lambda: None if lock is None else lock.backend_pid
        self.cycle = cycle
        self.on_callback = on_callback
        self.stop_timeout_s = stop_timeout_s
        self.lock = lock
        self.heartbeat_s = heartbeat_s
        self.http_limits = http_limits or HttpLimits()
        self.outage = Outage()
        self.fatal: LockTaken | None = None
        """Why this daemon must stop (another process took the lock), once it must."""
        self.stopping = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(settings.sync_minutes * 60),
            },
        )
        self.http: HttpServer | None = None
        self.port: int | None = None
        self._heartbeat: threading.Thread | None = None

    # -- jobs --------------------------------------------------------------
    def _tick(self) -> None:
        if self.stopping.is_set() or self.fatal is not None:
            return
        self.idle.clear()
        try:
            self.cycle.run_once(should_stop=self._must_stop)
        except LockTaken as err:
            self._stop_for(err)
        except LockLost:
            pass  # said once by the lock; the heartbeat takes it back (or stops the daemon)
        except UNREACHABLE as err:
            self.outage.down(err)
        except Exception:  # a bug in a job must never kill the daemon
            log.exception("cycle failed unexpectedly; the next one runs on schedule")
        finally:
            self.idle.set()

    def _must_stop(self) -> bool:
        """Asked before every job: stop, or the lock is not confirmed (then not one more job)."""
        if self.stopping.is_set() or self.fatal is not None:
            return True
        if self.lock is None:
            return False
        try:
            self.lock.ensure()
        except LockTaken as err:
            self._stop_for(err)
            return True
        except UNREACHABLE as err:
            self.outage.down(err)
            return True
        return False

    def _beat(self) -> None:
        """The lock held (or taken back), the database answering, waiting failures written."""
        try:
            if self.lock is not None:
                self.lock.ensure()
            with self.cycle.sessions() as session:
                session.execute(text("SELECT 1"))
            self.cycle.unrecorded.write(sessions=self.cycle.sessions, log_to=True)
        except LockTaken as err:
            self._stop_for(err)
        except (*UNREACHABLE, LockLost) as err:
            if not isinstance(err, LockLost):
                self.outage.down(err)
        else:
            self.outage.up()

    def _heartbeat_loop(self) -> None:
        while not self.stopping.wait(self.heartbeat_s) and self.fatal is None:
            try:
                self._beat()
            except Exception:  # the heartbeat must outlive a bug as the cycle does
                log.exception("heartbeat failed unexpectedly; the next one runs as usual")

    def _stop_for(self, err: LockTaken) -> None:
        if self.fatal is None:
            self.fatal = err
            self.stopping.set()

    def scheduler_alive(self) -> bool:
        return bool(self.scheduler.running) and not self.stopping.is_set()

    # -- lifecycle -----------------------------------------------------------
    def start_http(self) -> int:
        """Listen (or raise :class:`~service.errors.HttpPortBusy`); the port bound."""
        if pages_closed(self.settings):
            log.warning(
                "HTTP bound to %s without BACHBOT_HTTP_TOKEN: only /healthz and /callback are "
                "served there; set a token to see the status page and metrics",
                self.settings.http_host,
            )
        app = build_app(
            settings=self.settings,
            engine=self.engine,
            scheduler_alive=self.scheduler_alive,
            spotify_stats=self.cycle.spotify_stats,
            on_callback=self.on_callback,
        )
        self.http = HttpServer(
            app, host=self.settings.http_host, port=self.settings.http_port,
            limits=self.http_limits,
        )  # fmt: skip
        self.port = self.http.start()
        return self.port

    def start(self) -> None:
        with transaction(session_factory(self.engine)) as session:
            if closed := close_interrupted_runs(session=session):
                log.warning("%d job run(s) were interrupted by an earlier stop", closed)
        port = self.start_http()
        self.scheduler.add_job(
            self._tick,
            "interval",
            minutes=self.settings.sync_minutes,
            id="cycle",
            next_run_time=datetime.now(UTC) + timedelta(seconds=1),
        )
        self.scheduler.start()
        self._heartbeat = threading.Thread(
            target=self._heartbeat_loop, name="heartbeat", daemon=True
        )
        self._heartbeat.start()
        log.info(
            "bachbot running: cycle every %s min, status page http://%s:%d/, database %s",
            self.settings.sync_minutes,
            self.settings.http_host,
            port,
            hide_password(self.settings.resolved_database_url),
        )

    def stop(self) -> bool:
        """Stop taking jobs, give the running one time to finish; True if it did."""
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        finished = self.idle.wait(self.stop_timeout_s)
        if self.http is not None:
            self.http.stop()
        if self._heartbeat is not None and self._heartbeat is not threading.current_thread():
            self._heartbeat.join(timeout=self.heartbeat_s + 15)
        return finished


def run_daemon(
    settings: Settings,
    *,
    on_callback: CallbackHandler | None = None,
    ready: Callable[[Daemon], Any] | None = None,
    heartbeat_s: float = HEARTBEAT_S,
) -> int:
    """Run until SIGTERM/SIGINT; the exit code for the CLI.

    Raises :class:`~service.errors.LockTaken` (one line, exit 1) after a
    clean stop when another bachbot took the lock this one lost.  The
    database gets the daemon's longer wait (:data:`~service.store.connect.DAEMON`):
    at boot the daemon may well start before PostgreSQL does.
    """
    engine = open_database(settings, wait=DAEMON)
    if on_callback is None:
        sessions = session_factory(engine)

        def on_callback(url: str) -> str:
            return complete_pending(url, settings=settings, sessions=sessions)

    with process_lock(engine, what="bachbot run") as lock:
        daemon = Daemon(
            settings, engine=engine, on_callback=on_callback, lock=lock, heartbeat_s=heartbeat_s
        )
        stop_requested = threading.Event()

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s, stopping", signal.Signals(signum).name)
            stop_requested.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        daemon.start()
        if ready is not None:
            ready(daemon)
        while not stop_requested.wait(0.5) and daemon.fatal is None:
            pass
        if not daemon.stop():
            log.warning(
                "the running job did not finish within %.0f s; exiting, its transaction is "
                "rolled back",
                daemon.stop_timeout_s,
            )
            if daemon.fatal is not None:
                sys.stderr.write(f"bachbot: {daemon.fatal}\n")
            logging.shutdown()
            os._exit(0 if daemon.fatal is None else daemon.fatal.exit_code)
        if daemon.fatal is not None:
            raise daemon.fatal
    engine.dispose()
    log.info("bachbot stopped")
    return 0
