"""One place that builds a running bachbot from its settings.

Database engine, session factory, the token store, the Spotify gateway and the
cycle are put together here and nowhere else: the daemon, every command, the
demo, the benchmarks and the tests ask :func:`wire` for them.  What differs
between those callers is passed in (a clock for the demo's fast time, a
no-op sleep for tests, ReccoBeats' HTTP client pointed at the local
Spotify), never rebuilt.

The Spotify gateway is built on first use, so a command that never talks to
Spotify never imports spotipy.  Jobs run through :meth:`Wiring.run`, which is
:func:`service.jobrunner.run_job` with this wiring's sessions and clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings
from service.store.db import open_database, session_factory
from service.store.tables import utcnow
from service.store.tokens import DbTokenStore

if TYPE_CHECKING:
    import httpx

    from service.cycle import Cycle
    from service.jobrunner import JobOutcome
    from service.spotify.gateway import SpotifyGateway

T = TypeVar("T")


@dataclass
class Wiring:
    """A bachbot's parts for one process; build it with :func:`wire`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], None] = time.sleep
    http_client: httpx.Client | None = None
    """ReccoBeats' client (None: the features job makes one per run)."""
    jitter: Callable[[], float] | None = None
    """The gateway's back-off jitter (None: random; tests pin it)."""
    before_spotify_write: Callable[[], None] | None = None
    """Asked before every Spotify write (the process lock's check; see service.lock)."""

    @cached_property
    def tokens(self) -> DbTokenStore:
        return DbTokenStore(self.sessions)

    @cached_property
    def spotify(self) -> SpotifyGateway:
        """The Spotify gateway (imports spotipy at first use)."""
        from service.spotify.gateway import SpotifyGateway

        extra: dict[str, Any] = {} if self.jitter is None else {"jitter": self.jitter}
        return SpotifyGateway(
            self.settings,
            self.tokens,
            clock=self.clock,
            sleep=self.sleep,
            before_write=self._before_spotify_write,
            **extra,
        )

    def _before_spotify_write(self) -> None:
        """Read at each write, so a lock taken after the gateway was built still counts."""
        if self.before_spotify_write is not None:
            self.before_spotify_write()

    def cycle(self, *, train_fast: bool = False) -> Cycle:
        """The daemon's cycle over these parts."""
        from service.cycle import Cycle

        return Cycle(
            self.settings, self.sessions, self.spotify, self.http_client, self.clock, train_fast
        )

    def run(
        self,
        job: str,
        work: Callable[[Session], T],
        *,
        uses_spotify: bool,
        log_failures: bool = False,
    ) -> JobOutcome:
        """Run one job through the job runner (recorded, atomic, back-off aware)."""
        from service.jobrunner import run_job

        return run_job(
            job,
            work,
            sessions=self.sessions,
            uses_spotify=uses_spotify,
            now=self.clock,
            log_failures=log_failures,
        )

    def dispose(self) -> None:
        self.engine.dispose()


def wire(
    settings: Settings,
    *,
    engine: Engine | None = None,
    wait: Any = None,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    http_client: httpx.Client | None = None,
    jitter: Callable[[], float] | None = None,
) -> Wiring:
    """Open (or reuse) the database and hand back the parts built on it.

    ``wait`` is how long to wait for an unreachable database
    (:mod:`service.store.connect`'s ``ONE_SHOT`` unless given).
    """
    if engine is None:
        engine = open_database(settings) if wait is None else open_database(settings, wait=wait)
    return Wiring(settings, engine, session_factory(engine), clock, sleep, http_client, jitter)
