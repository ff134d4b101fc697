"""``bachbot run``: the long-running service.

Wires the cycle (:mod:`service.cycle`) into APScheduler 3 and serves the HTTP
app beside it.  Decisions and why:

* one worker thread for jobs, ``coalesce=True``, ``max_instances=1``: jobs
  never overlap, so SQLite sees one writer and a slow cycle never piles up;
* the process lock (:mod:`service.lock`) is held for the daemon's lifetime, so
  a second daemon or a one-shot ``bachbot sync`` cannot double the work;
* SIGTERM/SIGINT stop new work at once; the running job gets
  ``stop_timeout_s`` to finish, after which the process exits anyway and the
  database rolls the open transaction back (every job commits atomically).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

import uvicorn
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from service.cycle import Cycle
from service.http import CallbackHandler, build_app
from service.lock import process_lock
from service.login import complete_pending
from service.settings import Settings
from service.store.connect import DAEMON
from service.store.db import hide_password, open_database, session_factory, transaction
from service.store.jobruns import close_interrupted_runs
from service.wiring import wire

log = logging.getLogger("bachbot.daemon")

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class Daemon:
    """The scheduler, the HTTP server and the cycle, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        cycle: Cycle | None = None,
        on_callback: CallbackHandler | None = None,
        stop_timeout_s: float = 30.0,
    ) -> None:
        self.settings = settings
        self.engine = engine or open_database(settings)
        self.cycle = cycle or wire(settings, engine=self.engine).cycle()
        self.on_callback = on_callback
        self.stop_timeout_s = stop_timeout_s
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
        self.server: uvicorn.Server | None = None
        self.http_thread: threading.Thread | None = None
        self.port: int | None = None

    # -- jobs --------------------------------------------------------------
    def _tick(self) -> None:
        if self.stopping.is_set():
            return
        self.idle.clear()
        try:
            self.cycle.run_once(should_stop=self.stopping.is_set)
        except Exception:  # a bug in a job must never kill the daemon
            log.exception("cycle failed unexpectedly; the next one runs on schedule")
        finally:
            self.idle.set()

    def scheduler_alive(self) -> bool:
        return bool(self.scheduler.running) and not self.stopping.is_set()

    # -- lifecycle -----------------------------------------------------------
    def start_http(self) -> int:
        host, port = self.settings.http_host, self.settings.http_port
        if host not in LOOPBACK and self.settings.http_token is None:
            log.warning(
                "HTTP bound to %s without BACHBOT_HTTP_TOKEN: anyone who can reach the port "
                "sees the status page; set a token or bind 127.0.0.1",
                host,
            )
        app = build_app(
            settings=self.settings,
            engine=self.engine,
            scheduler_alive=self.scheduler_alive,
            spotify_stats=self.cycle.spotify_stats,
            on_callback=self.on_callback,
        )
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.http_thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="http", daemon=True
        )
        self.http_thread.start()
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
        if self.server is not None:
            self.server.should_exit = True
        if self.http_thread is not None:
            self.http_thread.join(timeout=5)
        return finished


def run_daemon(
    settings: Settings,
    *,
    on_callback: CallbackHandler | None = None,
    ready: Callable[[Daemon], Any] | None = None,
) -> int:
    """Run until SIGTERM/SIGINT; the exit code for the CLI.

    The database gets the daemon's longer wait (:data:`~service.store.connect.DAEMON`):
    at boot the daemon may well start before PostgreSQL does.
    """
    engine = open_database(settings, wait=DAEMON)
    if on_callback is None:
        sessions = session_factory(engine)

        def on_callback(url: str) -> str:
            return complete_pending(url, settings=settings, sessions=sessions)

    with process_lock(engine, what="bachbot run"):
        daemon = Daemon(settings, engine=engine, on_callback=on_callback)
        stop_requested = threading.Event()

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s, stopping", signal.Signals(signum).name)
            stop_requested.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        daemon.start()
        if ready is not None:
            ready(daemon)
        while not stop_requested.wait(1.0):
            pass
        if not daemon.stop():
            log.warning(
                "the running job did not finish within %.0f s; exiting, its transaction is "
                "rolled back",
                daemon.stop_timeout_s,
            )
            logging.shutdown()
            os._exit(0)
    engine.dispose()
    log.info("bachbot stopped")
    return 0
