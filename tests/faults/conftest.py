"""The fault suite's world and its report table.

``world`` is a small listener's Spotify (a seeded demo catalogue, a playlist
of the listener's own, one followed playlist, a few likes) in the local
Spotify, with bachbot wired to it exactly as the daemon wires it: settings ->
database -> token in the database -> gateway -> :class:`service.cycle.Cycle`.
The clock is fake and shared by the cycle, the job runner and the gateway,
so backoff and rate-limit pauses are passed by moving it, never by sleeping;
the gateway's own waits (Retry-After, backoff) are recorded, not slept.

Every fault test ends with :meth:`World.verify`, which checks what a user
would call "nothing lost" and records one row of the table printed at the end
of the run (``pytest tests/faults`` prints it on its own):

    fault | tries | survived | data lost

- every rating event recorded before the fault is still there, unchanged,
  and the count never went down;
- exactly one "Predicted favourites" among the listener's playlists, the one
  bachbot has stored, with no track in it twice;
- the expected job runs were recorded (failed / skipped / ok), and a clean
  cycle afterwards succeeds.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from models.catalogue_demo import BACH_ID, DemoCatalogue
from service.cycle import CycleReport
from service.demo_listener import HiddenTaste
from service.demo_world import LISTENER, START, ListenerWorld, log_in
from service.settings import Settings
from service.spotify_sim import SpotifySim
from service.store.app_state import BOT_PLAYLIST
from service.store.db import make_engine, session_factory
from service.store.tables import JobRun, Publication, Rating
from service.wiring import Wiring

STEP = timedelta(hours=7)
"""Clock step between cycles: longer than the longest job backoff (6 h)."""

PLAYLIST_NAME = "Predicted favourites"


# --- the report table --------------------------------------------------------------------
@dataclass
class FaultRow:
    fault: str
    tries: int
    survived: bool
    data_lost: str


@dataclass
class FaultTable:
    rows: list[FaultRow] = field(default_factory=list)

    def add(self, fault: str, *, tries: int, survived: bool, data_lost: str = "none") -> None:
        self.rows.append(FaultRow(fault, tries, survived, data_lost))

    def render(self) -> str:
        head = ("fault", "tries", "survived", "data lost")
        body = [
            (r.fault, str(r.tries), "yes" if r.survived else "NO", r.data_lost) for r in self.rows
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(4)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        out = [line.format(*head), line.format(*("-" * w for w in widths))]
        out += [line.format(*row) for row in body]
        survived = sum(r.survived for r in self.rows)
        out.append(f"{survived}/{len(self.rows)} faults survived")
        return "\n".join(out)


TABLE = FaultTable()


@pytest.fixture
def fault_table() -> FaultTable:
    return TABLE


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TABLE.rows:
        terminalreporter.section("bachbot fault table")
        terminalreporter.write_line(TABLE.render())


# --- the world ----------------------------------------------------------------------------
def fault_settings(base: Settings, sim: SpotifySim) -> Settings:
    """The test settings pointed at the local Spotify, sized so a cycle takes a moment."""
    return sim.settings_for(
        base,
        composer_artist_ids=[BACH_ID],
        calls_per_cycle=2000,
        spotify_timeout_s=1.0,
        cv_splits=2,
        cv_repeats=1,
        min_ratings=10_000,  # the cold-start model: training is not what is tested here
        retrain_after_ratings=1,
        playlist_size=12,
        playlist_min_probability=0.0,
        max_per_work=2,
    )


@dataclass
class Snapshot:
    """What the database held at one moment: rating events by id."""

    ratings: dict[int, tuple[str, int | None, str]]


class World:
    """bachbot and its listener's local Spotify, driven one cycle at a time."""

    def __init__(
        self,
        *,
        sim: SpotifySim,
        settings: Settings,
        engine: Engine,
        sessions: sessionmaker[Session],
        catalogue: DemoCatalogue,
        taste: HiddenTaste,
        table: FaultTable,
    ) -> None:
        self.sim = sim
        self.settings = settings
        self.sessions = sessions
        self.catalogue = catalogue
        self.taste = taste
        self.table = table
        self.clock = [START]
        self.sleeps: list[float] = []
        self.http = httpx.Client(timeout=settings.spotify_timeout_s)
        self.wiring = Wiring(
            settings=settings,
            engine=engine,
            sessions=sessions,
            clock=lambda: self.clock[0],
            sleep=self.sleeps.append,
            http_client=self.http,
            jitter=lambda: 0.0,
        )
        self.store = self.wiring.tokens
        log_in(sim, self.store)
        self.gateway = self.wiring.spotify
        self.cycle = self.wiring.cycle(train_fast=True)
        self.rng = random.Random(11)
        self.baseline: Snapshot | None = None

    # --- driving ----------------------------------------------------------------------
    def run(self, cycles: int = 1) -> list[CycleReport]:
        reports = []
        for _ in range(cycles):
            self.clock[0] += STEP
            reports.append(self.cycle.run_once())
        return reports

    def listener_likes(self, n: int = 2) -> list[str]:
        """The listener likes ``n`` more tracks in the Spotify app (new ratings to sync)."""
        user = self.sim.state.users[LISTENER]
        fresh = [t.id for t in self.catalogue.tracks if t.id not in user.likes]
        chosen = self.rng.sample(fresh, k=min(n, len(fresh)))
        for track_id in chosen:
            self.sim.state.like(LISTENER, track_id, self.clock[0])
        return chosen

    def bot_playlist_id(self) -> str | None:
        with self.sessions() as session:
            value = BOT_PLAYLIST.get(session)
        return value if isinstance(value, str) else None

    def visible_bot_playlists(self) -> list[str]:
        """Playlists named "Predicted favourites" the listener has (owns and follows)."""
        state = self.sim.state
        with state.lock:
            return [
                pid
                for pid in state.users[LISTENER].followed_playlists
                if pid in state.playlists
                and state.playlists[pid].name == self.settings.playlist_name
                and state.playlists[pid].owner_id == LISTENER
            ]

    def published(self) -> list[str]:
        bot = self.bot_playlist_id()
        return [] if bot is None else self.sim.state.playlist_track_ids(bot)

    def snapshot(self) -> Snapshot:
        with self.sessions() as session:
            rows = session.scalars(select(Rating)).all()
            return Snapshot({r.id: (r.track_id, r.value, r.source) for r in rows})

    def job_runs(self, since_id: int = 0) -> list[tuple[str, str]]:
        with self.sessions() as session:
            rows = session.scalars(
                select(JobRun).where(JobRun.id > since_id).order_by(JobRun.id)
            ).all()
            return [(r.job, r.status) for r in rows]

    def last_job_run_id(self) -> int:
        with self.sessions() as session:
            return max(session.scalars(select(JobRun.id)).all(), default=0)

    def publications(self) -> list[Publication]:
        with self.sessions() as session:
            return list(session.scalars(select(Publication).order_by(Publication.id)))

    def warm_up(self) -> Snapshot:
        """Two clean cycles (something published), a few likes synced: the "before"."""
        reports = self.run(1)
        assert all(o.status == "ok" for o in reports[0].outcomes), reports[0].outcomes
        self.listener_likes(2)
        reports = self.run(1)
        assert all(o.status == "ok" for o in reports[0].outcomes), reports[0].outcomes
        assert self.published(), "the clean warm-up published nothing"
        self.baseline = self.snapshot()
        return self.baseline

    # --- the verdict ---------------------------------------------------------------------
    def problems(self, before: Snapshot) -> tuple[list[str], int]:
        """What is wrong now compared with ``before``; and how many ratings were lost."""
        found: list[str] = []
        after = self.snapshot()
        lost = [i for i, row in before.ratings.items() if after.ratings.get(i) != row]
        if lost:
            found.append(f"{len(lost)} rating event(s) lost or changed: {lost[:5]}")
        if len(after.ratings) < len(before.ratings):
            found.append(f"rating count went down {len(before.ratings)} -> {len(after.ratings)}")
        visible = self.visible_bot_playlists()
        if len(visible) != 1:
            found.append(f"{len(visible)} playlists named {self.settings.playlist_name!r}")
        bot = self.bot_playlist_id()
        if bot is None or bot not in visible:
            found.append(f"stored playlist id {bot} is not the one the listener has {visible}")
        for pid in visible:
            items = self.sim.state.playlist_track_ids(pid)
            if len(items) != len(set(items)):
                found.append(f"playlist {pid} holds a track twice: {items}")
        return found, len(lost)

    def verify(
        self,
        fault: str,
        *,
        tries: int,
        before: Snapshot,
        clean: CycleReport | None = None,
        extra: Callable[[], list[str]] = lambda: [],
    ) -> None:
        """Record the table row for ``fault`` and fail the test on any problem."""
        found, lost = self.problems(before)
        if clean is not None:
            bad = [o for o in clean.outcomes if o.status != "ok"]
            if bad:
                found.append(f"the clean cycle afterwards did not succeed: {bad}")
        found += extra()
        self.table.add(
            fault,
            tries=tries,
            survived=not found,
            data_lost=f"{lost} rating(s)" if lost else "none",
        )
        assert not found, f"{fault}: " + "; ".join(found)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def make_world(settings: Settings, fault_table: FaultTable) -> Iterator[Callable[..., World]]:
    """Build a world (``n_albums`` small: a cycle takes well under a second)."""
    made: list[tuple[World, SpotifySim, Any]] = []

    def build(*, n_albums: int = 3, seed: int = 3, mode: str = "new") -> World:
        listener = ListenerWorld.generate(n_albums=n_albums, seed=seed)
        sim = listener.serve(mode=mode)
        sim.start()
        world_settings = fault_settings(settings, sim)
        engine = make_engine(world_settings)
        world = World(
            sim=sim,
            settings=world_settings,
            engine=engine,
            sessions=session_factory(engine),
            catalogue=listener.catalogue,
            taste=listener.taste,
            table=fault_table,
        )
        made.append((world, sim, engine))
        return world

    yield build
    for world, sim, engine in made:
        world.close()
        sim.stop()
        engine.dispose()
    for _, sim, _ in made:  # answers checked against the spec (unless a test says why not)
        sim.assert_valid()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()
