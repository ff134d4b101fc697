"""Kill trials: ``kill -9`` a real ``bachbot run`` at random moments inside its jobs.

    python -m bench.kill_trials --trials 50 --backend sqlite|postgres [--seed 0]
    python -m bench --only kill [--kill-trials 50]     # the same, as a bench section

Each trial: the listener acts in the local Spotify (likes two tracks, takes a
track out of "Predicted favourites", and Bach gets a new album, so every job
has work); ``bachbot run`` starts; the harness waits until the trial's step
is running (its job-run row says so), waits a seeded random part of that
step's usual duration, confirms it still runs, and sends SIGKILL.  The steps
take turns: sync, features, train, train while it saves and promotes (the
kill follows the new artifact's appearance by a few milliseconds), score,
publish.  Then ``bachbot run`` starts again, finishes one whole cycle and is
stopped with SIGTERM, and the trial checks (:mod:`bench.kill_checks`):

* lost: every rating event recorded before the kill is still there, and every
  removal and like the listener made is recorded;
* duplicated: no event recorded twice (two removals, exposures or standing
  likes of one track); one "Predicted favourites", no track in it twice;
* orphaned: no process of either daemon run is alive after its stop
  (workers and resource trackers included, found by an environment mark);
* stuck: no job run left "running", the restart finished a cycle, exit code 0
  on SIGTERM without a traceback;
* other: the database's integrity check, at most one promoted model whose
  artifact matches its sha256, the process lock free after the stop.

It prints trials, kills that landed inside a job per step, trials survived
and violations by kind.  Nothing here is timed against a target: the hang
guards only stop a trial that would never end.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.daemon_process import DaemonProcess, daemon_env
from bench.kill_checks import Expected, check_trial, ratings_snapshot
from bench.processes import kill_all
from bench.report import Row
from models.catalogue_demo import BACH_ID
from service.demo_world import LISTENER, ListenerWorld, log_in
from service.settings import Settings
from service.spotify_sim import Fault, SpotifySim
from service.store.app_state import BOT_PLAYLIST
from service.store.db import make_engine, session_factory, upgrade
from service.store.tables import JobRun, Publication
from service.store.tokens import DbTokenStore

STEPS = ("sync", "features", "train", "score", "publish")
AIMS = ("sync", "features", "train", "train:save", "score", "publish")
"""What each trial aims at, in turn; ``train:save`` is train while it saves and promotes."""
FIRST_GUESS_S = {"sync": 0.5, "features": 0.3, "train": 3.0, "score": 0.2, "publish": 0.3}
HANG_S = 180.0
"""Hang guard for one wait on the daemon (never an assertion on speed)."""
TRIES_PER_KILL = 8
"""Occurrences of the aimed step to wait for before killing wherever the daemon is."""
IMPORTED = 20
"""1-10 ratings the listener imported before the trials (half loved, half not)."""
NEW_TRACKS = 4
"""New recordings per trial, added to the listener's own playlist: work for every step."""
OWN_PLAYLIST = "demo-mornings"


@dataclass
class TrialResult:
    number: int
    aim: str
    landed_in: str | None
    """The job whose run was left "running" by the kill (None: between jobs)."""
    violations: dict[str, list[str]] = field(default_factory=dict)

    @property
    def survived(self) -> bool:
        return not any(self.violations.values())


@dataclass
class KillReport:
    backend: str
    results: list[TrialResult] = field(default_factory=list)

    @property
    def trials(self) -> int:
        return len(self.results)

    @property
    def survived(self) -> int:
        return sum(r.survived for r in self.results)

    def violations(self) -> Counter[str]:
        kinds: Counter[str] = Counter({k: 0 for k in ("lost", "duplicated", "orphaned", "stuck")})
        for result in self.results:
            for kind, found in result.violations.items():
                kinds[kind] += len(found)
        return kinds

    def problems(self) -> list[str]:
        """Every violation found, as ``trial N (aim) kind: what``."""
        return [
            f"trial {r.number} ({r.aim}) {kind}: {text}"
            for r in self.results
            for kind, texts in r.violations.items()
            for text in texts
        ]

    def per_step(self) -> dict[str, tuple[int, int]]:
        """Step -> (kills aimed at it, kills that landed inside it)."""
        table: dict[str, tuple[int, int]] = {}
        for aim in AIMS:
            step = aim.split(":")[0]
            aimed = [r for r in self.results if r.aim == aim]
            landed = sum(r.landed_in == step for r in aimed)
            table[aim] = (len(aimed), landed)
        return table

    def render(self) -> str:
        lines = [
            f"kill trials on {self.backend}: {self.trials} trials, {self.survived} survived",
            f"{'step':<12}{'kills':>7}{'landed in the job':>19}",
        ]
        for aim, (aimed, landed) in self.per_step().items():
            name = "train (save)" if aim == "train:save" else aim
            lines.append(f"{name:<12}{aimed:>7}{landed:>19}")
        kinds = self.violations()
        lines.append("violations: " + ", ".join(f"{kind} {count}" for kind, count in kinds.items()))
        lines += [f"  {problem}" for problem in self.problems()]
        return "\n".join(lines)

    def rows(self) -> list[Row]:
        section = f"kill/{self.backend}"
        kinds = self.violations()
        landed = sum(r.landed_in is not None for r in self.results)
        rows = [
            Row(section, "trials survived", self.survived, "trials", target=self.trials,
                compare="==", note=f"{self.trials} kill -9 trials, each followed by a restart, "
                "a whole cycle and SIGTERM; see bench/kill_trials.py for the checks"),
            Row(section, "kills that landed inside a job", landed, "kills", baseline=self.trials,
                baseline_name="kills", details={"per_step": {
                    a: {"kills": k, "landed": n} for a, (k, n) in self.per_step().items()}}),
            Row(section, "violations", sum(kinds.values()), "", target=0, compare="==",
                details={**kinds, "problems": self.problems()}),
        ]  # fmt: skip
        return rows


# --- the world ------------------------------------------------------------------------------
class TrialWorld:
    """The listener's local Spotify, bachbot's database, and the daemon's environment."""

    def __init__(self, *, folder: Path, database_url: str, seed: int, n_albums: int = 4) -> None:
        self.folder = folder
        self.rng = random.Random(seed)
        world = ListenerWorld.generate(n_albums=n_albums, seed=seed, segments_per_track=0)
        self.catalogue = world.catalogue
        self.sim: SpotifySim = world.serve()
        self.sim.accounts.client_id = "kill-trial-client"
        self.sim.accounts.client_secret = "kill-trial-secret"
        self.data_dir = folder / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.settings = Settings(
            _env_file=None,
            data_dir=self.data_dir,
            database_url=database_url,
        )
        self.engine: Engine = make_engine(self.settings)
        upgrade(self.engine)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self.expected = Expected()
        self._albums = 0

    def start(self) -> None:
        self.sim.start()
        # Spotify answers a little slowly, so a step lasts long enough to be hit inside
        self.sim.faults.inject("*", Fault.slow(0.02))
        log_in(self.sim, DbTokenStore(self.sessions), user=LISTENER)
        with self.sim.state.lock:
            for track_id, like in self.sim.state.users[LISTENER].likes.items():
                self.expected.liked[track_id] = like
        self.daemon = DaemonProcess(
            daemon_env(self.sim, data_dir=self.data_dir,
                       database_url=self.settings.resolved_database_url),
            self.folder / "daemon.log",
            cwd=self.folder,
        )  # fmt: skip
        self._import_ratings()

    def _import_ratings(self) -> None:
        """The listener imported some 1-10 ratings once, as ``bachbot import-ratings`` does:
        enough loved and unloved tracks for a real training (nested CV on two workers)."""
        tracks = sorted(self.catalogue.tracks, key=lambda t: t.id)
        chosen = self.rng.sample(tracks, k=min(IMPORTED, len(tracks)))
        lines = [f"{t.id},{9 if i % 2 else 3}" for i, t in enumerate(chosen)]
        path = self.folder / "ratings.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.daemon.start("import-ratings", str(path))
        code = self.daemon.wait()
        if code != 0:
            raise TrialStuck(f"import-ratings exited {code}:\n{self.daemon.output()[-2000:]}")

    def close(self) -> None:
        daemon = getattr(self, "daemon", None)
        if daemon is not None and daemon.alive():
            daemon.kill9()
        for mark in getattr(daemon, "marks", []):
            kill_all(mark)
        self.sim.stop()
        self.engine.dispose()

    # --- the listener --------------------------------------------------------------------
    def listener_acts(self) -> None:
        """Two likes, one track taken out of the bot playlist, one new album of Bach."""
        state = self.sim.state
        now = datetime.now(UTC)
        with state.lock:
            likes = state.users[LISTENER].likes
            fresh = [t.id for t in self.catalogue.tracks if t.id not in likes]
        for track_id in self.rng.sample(fresh, k=min(2, len(fresh))):
            state.like(LISTENER, track_id, now)
            self.expected.liked[track_id] = now
        removable = self._removable()
        if removable:
            track_id = self.rng.choice(removable)
            state.remove_from_playlist(self._bot_playlist() or "", track_id)
            self.expected.removed.add(track_id)
        self._albums += 1
        template = self.rng.choice(self.catalogue.tracks)
        album = state.add_album(
            f"Bach: new recordings {self._albums}", artist_ids=[BACH_ID],
            release_date=(now - timedelta(days=1)).strftime("%Y-%m-%d"),
        )  # fmt: skip
        for n in range(NEW_TRACKS):
            source = state.tracks[template.id]
            track_id = state.add_track(
                f"{template.name} (take {self._albums}.{n})", album_id=album,
                artist_ids=[BACH_ID], reccobeats=source.reccobeats,
                audio_features=source.audio_features,
            )  # fmt: skip
            # into the listener's own playlist, which sync reads when it changed
            state.add_to_playlist(OWN_PLAYLIST, track_id, added_at=now)

    def listener_likes_one(self) -> None:
        """One more like: a new rating, so the next cycle trains again."""
        now = datetime.now(UTC)
        with self.sim.state.lock:
            likes = self.sim.state.users[LISTENER].likes
            fresh = [t.id for t in self.catalogue.tracks if t.id not in likes]
        if fresh:
            track_id = self.rng.choice(fresh)
            self.sim.state.like(LISTENER, track_id, now)
            self.expected.liked[track_id] = now

    def _bot_playlist(self) -> str | None:
        with self.sessions() as session:
            value = BOT_PLAYLIST.get(session)
        return value if isinstance(value, str) else None

    def _removable(self) -> list[str]:
        """Tracks of bachbot's last list still in the playlist and not liked: taking one out
        is a removal bachbot must record."""
        playlist = self._bot_playlist()
        if playlist is None or playlist not in self.sim.state.playlists:
            return []
        with self.sessions() as session:
            last = session.scalars(
                select(Publication)
                .where(Publication.playlist_id == playlist)
                .order_by(Publication.id.desc())
                .limit(1)
            ).first()
            ours = set(last.track_ids) if last else set()
        current = self.sim.state.playlist_track_ids(playlist)
        with self.sim.state.lock:
            liked = set(self.sim.state.users[LISTENER].likes)
        return sorted(t for t in current if t in ours and t not in liked)

    # --- the daemon's job runs ---------------------------------------------------------------
    def last_run_id(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.max(JobRun.id))) or 0

    def running(self, after: int) -> tuple[int, str] | None:
        with self.sessions() as session:
            row = session.execute(
                select(JobRun.id, JobRun.job)
                .where(JobRun.status == "running", JobRun.id > after)
                .order_by(JobRun.id.desc())
                .limit(1)
            ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def still_running(self, run_id: int) -> bool:
        with self.sessions() as session:
            return session.scalar(select(JobRun.status).where(JobRun.id == run_id)) == "running"

    def cycle_done(self, after: int) -> bool:
        with self.sessions() as session:
            found = session.scalar(
                select(JobRun.id).where(
                    JobRun.job == "publish", JobRun.status == "ok", JobRun.id > after
                )
            )
        return found is not None

    def usual_seconds(self, job: str) -> float:
        """The last successful run's duration of ``job`` (a first guess before one exists)."""
        with self.sessions() as session:
            run = session.scalars(
                select(JobRun)
                .where(JobRun.job == job, JobRun.status == "ok", JobRun.finished_at.is_not(None))
                .order_by(JobRun.id.desc())
                .limit(1)
            ).first()
            if run is None or run.finished_at is None:
                return FIRST_GUESS_S[job]
            return max((run.finished_at - run.started_at).total_seconds(), 0.02)

    def artifacts(self) -> set[str]:
        folder = self.settings.models_dir
        return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


# --- one trial ---------------------------------------------------------------------------------
def _wait_for(condition: Callable[[], bool], what: str, daemon: DaemonProcess) -> None:
    deadline = time.monotonic() + HANG_S
    while not condition():
        if not daemon.alive():
            raise TrialStuck(f"bachbot run exited while waiting for {what}{_tail(daemon)}")
        if time.monotonic() > deadline:
            raise TrialStuck(f"no {what} within {HANG_S:.0f} s (hang guard){_tail(daemon)}")
        time.sleep(0.005)


def _tail(daemon: DaemonProcess, lines: int = 4) -> str:
    """The daemon's last log lines, for a reader of the trial table (its folder is temporary)."""
    last = [line[:300] for line in daemon.output().strip().splitlines()[-lines:]]
    return "; the daemon's last lines: " + " | ".join(last) if last else ""


class TrialStuck(Exception):
    """The daemon never got where the trial waited for it."""


def _next_run_of(world: TrialWorld, step: str, after: int) -> int:
    """The id of the next run of ``step`` (after run ``after``) once it is running."""
    seen: list[int] = []

    def running() -> bool:
        row = world.running(after)
        if row is not None and row[1] == step:
            seen.append(row[0])
        return bool(seen)

    _wait_for(running, f"a running {step} job", world.daemon)
    return seen[0]


def _saving(world: TrialWorld, run_id: int) -> None:
    """Wait until the training run writes its new artifact (or ends without one)."""
    before = world.artifacts()
    _wait_for(
        lambda: bool(world.artifacts() - before) or not world.still_running(run_id),
        "the new model's artifact",
        world.daemon,
    )


def _kill_inside(world: TrialWorld, aim: str, rng: random.Random, after: int) -> str | None:
    """Wait for the aimed step, kill the daemon inside it; the job the kill left running."""
    step = aim.split(":")[0]
    for _ in range(TRIES_PER_KILL):
        run_id = _next_run_of(world, step, after)
        if aim == "train:save":
            _saving(world, run_id)
            time.sleep(rng.uniform(0.0, 0.01))
        else:
            time.sleep(rng.uniform(0.0, 0.9 * world.usual_seconds(step)))
        if world.still_running(run_id):
            world.daemon.kill9()
            return step if world.still_running(run_id) else None
        after = run_id  # it ended first: aim at its next run
        if step == "train":
            world.listener_likes_one()  # training runs again only on new ratings
    world.daemon.kill9()
    row = world.running(after)
    return None if row is None else row[1]


def run_trial(world: TrialWorld, number: int, aim: str, rng: random.Random) -> TrialResult:
    daemon = world.daemon
    world.listener_acts()
    mark = world.last_run_id()
    daemon.start()
    try:
        landed = _kill_inside(world, aim, rng, mark)
    except TrialStuck as err:
        if daemon.alive():
            daemon.kill9()
        return TrialResult(number, aim, None, {"stuck": [str(err)]})
    killed_mark = daemon.mark
    before = ratings_snapshot(world.sessions)
    restart = world.last_run_id()
    daemon.start()
    stuck: list[str] = []
    try:
        _wait_for(lambda: world.cycle_done(restart), "whole cycle after the restart", daemon)
    except TrialStuck as err:
        stuck.append(str(err))
    code = daemon.stop()
    violations = check_trial(
        world=world, before=before, exit_code=code, marks=[killed_mark, daemon.mark]
    )
    violations.setdefault("stuck", []).extend(stuck)
    return TrialResult(number, aim, landed, violations)


def warm_up(world: TrialWorld) -> None:
    """One whole cycle before the first kill: a playlist, a model, warm training workers."""
    mark = world.last_run_id()
    world.daemon.start()
    _wait_for(lambda: world.cycle_done(mark), "a first whole cycle", world.daemon)
    code = world.daemon.stop()
    if code != 0:
        raise TrialStuck(f"the warm-up daemon exited {code}:\n{world.daemon.output()[-2000:]}")


def run_kill_trials(
    *,
    database_url: str,
    backend: str,
    folder: Path,
    trials: int,
    seed: int = 0,
    progress: Callable[[str], None] = lambda _line: None,
) -> KillReport:
    """``trials`` kill trials on the (migrated or empty) database at ``database_url``."""
    rng = random.Random(f"kill-trials-{seed}")
    world = TrialWorld(folder=folder, database_url=database_url, seed=seed)
    report = KillReport(backend)
    try:
        world.start()
        warm_up(world)
        for number in range(1, trials + 1):
            aim = AIMS[(number - 1) % len(AIMS)]
            result = run_trial(world, number, aim, rng)
            report.results.append(result)
            state = "ok" if result.survived else "VIOLATION"
            found = "; ".join(
                f"{kind}: {text}" for kind, texts in result.violations.items() for text in texts
            )
            progress(
                f"trial {number}/{trials} ({backend}): aimed at {aim}, landed in "
                f"{result.landed_in or 'no job'}, {state}" + (f" ({found})" if found else "")
            )
    finally:
        world.close()
    return report


@contextmanager
def _database(backend: str, folder: Path) -> Iterator[str]:
    from bench.world import database

    with database(backend, folder, "kill") as url:
        yield url


def run_section(
    backends: Sequence[str], folder: Path, *, trials: int, seed: int,
    progress: Callable[[str], None],
) -> tuple[list[Row], list[KillReport]]:  # fmt: skip
    """The bench section: ``trials`` per back-end, a database of their own each."""
    rows: list[Row] = []
    reports: list[KillReport] = []
    for backend in backends:
        with _database(backend, folder / f"kill_{backend}") as url:
            report = run_kill_trials(
                database_url=url, backend=backend, folder=folder / f"kill_{backend}",
                trials=trials, seed=seed, progress=progress,
            )  # fmt: skip
        reports.append(report)
        rows += report.rows()
    return rows, reports


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kill_trials", description=__doc__)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from service.logs import configure_logging

    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="bachbot-kill-") as tmp:
        _, reports = run_section(
            [args.backend], Path(tmp), trials=args.trials, seed=args.seed,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )  # fmt: skip
    print(reports[0].render())
    return 0 if reports[0].survived == reports[0].trials else 1


def describe(report: KillReport) -> dict[str, Any]:
    """The report as JSON-safe figures (for tests and the bench's details)."""
    return {
        "trials": report.trials,
        "survived": report.survived,
        "per_step": {a: {"kills": k, "landed": n} for a, (k, n) in report.per_step().items()},
        "violations": dict(report.violations()),
    }


if __name__ == "__main__":
    sys.exit(main())
