"""Soak run: many cycles of the demo world with random Spotify faults and a scripted listener.

    python -m bench.soak [--cycles 100] [--seed 0] [--backend sqlite|postgres]

Each cycle the local Spotify is told to fail a few of the next requests on
routes the cycle uses (5xx, short and long 429s, connection resets,
non-JSON and truncated bodies, expired tokens), then the real
:class:`service.cycle.Cycle` runs, then a listener with a hidden taste reacts
to the playlist (likes, removals), now and then rates a track by hand and
adds one to a playlist of their own.  The clock moves 30 minutes a cycle and
nothing really sleeps.  The last cycles run without faults so that every
pause ends.

Checked after every cycle: every rating event recorded before is still
there, unchanged, and every step of the cycle left a finished job run.
Checked at the end: exactly one "Predicted favourites" in the local Spotify,
no track in it twice, no job run left "running", every like standing on
Spotify recorded as a rating.  The table lists, per fault, how often it fired,
in how many of those cycles the daemon carried on with every check holding,
and how many rating events were lost.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.world import base_settings, database, sim_settings
from models.catalogue_demo import DemoTrack
from service.demo_listener import HiddenTaste, react
from service.demo_world import LISTENER, START, ListenerWorld, log_in
from service.spotify_sim import Fault, SpotifySim
from service.store.app_state import BOT_PLAYLIST
from service.store.db import transaction
from service.store.ratings import add_rating, liked_track_ids
from service.store.tables import JobRun, Rating, Track
from service.wiring import wire

FAULTS: dict[str, tuple[Fault, int]] = {
    "http 503 (retried)": (Fault.http(503), 1),
    "http 500 x4 (job fails)": (Fault.http(500), 4),
    "429 short Retry-After": (Fault.rate_limited(1), 1),
    "429 Retry-After 2 h (pause)": (Fault.rate_limited(7200), 1),
    "connection reset": (Fault.reset(), 1),
    "malformed JSON": (Fault.malformed_json(), 1),
    "truncated JSON": (Fault.truncated_json(), 1),
    "expired token (401)": (Fault.expired_token(), 1),
}
"""Fault name -> (fault, how many consecutive requests it hits)."""

ROUTES = (
    "GET /me/playlists",
    "GET /me/tracks",
    "GET /playlists/{id}/items",
    "GET /me/player/recently-played",
    "GET /me/albums",
    "GET /playlists/{id}",
    "PUT /playlists/{id}",
    "PUT /playlists/{id}/items",
    "POST /me/playlists",
    "GET /artists/{id}/albums",
    "GET /albums/{id}",
    "reccobeats GET /v1/audio-features",
)
CLEAN_TAIL = 6
"""Fault-free cycles at the end: longer than the longest pause (2 h = 4 cycles)."""


@dataclass
class FaultTally:
    injected: int = 0
    cycles: int = 0
    survived: int = 0
    data_lost: int = 0


@dataclass
class SoakResult:
    cycles: int
    seed: int
    tally: dict[str, FaultTally] = field(default_factory=dict)
    failed_steps: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    ratings: int = 0
    playlists_named: int = 0
    duplicates: int = 0
    likes_unrecorded: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        head = ("fault", "injected", "cycles", "survived", "data lost")
        lines = [
            (name, str(t.injected), str(t.cycles), str(t.survived), str(t.data_lost))
            for name, t in self.tally.items()
        ]
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
        out = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
        out.append("-+-".join("-" * w for w in widths))
        out += [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
        failed = ", ".join(f"{k} {v}" for k, v in sorted(self.failed_steps.items())) or "none"
        out += [
            "",
            f"cycles: {self.cycles} (last {CLEAN_TAIL} without faults); steps that failed or "
            f"were skipped (then recovered): {failed}",
            f'"Predicted favourites" playlists: {self.playlists_named}; duplicated items: '
            f"{self.duplicates}; rating events: {self.ratings}; likes on Spotify not recorded: "
            f"{self.likes_unrecorded}",
            "invariants: " + ("all held" if self.ok else "BROKEN: " + "; ".join(self.problems)),
        ]
        return "\n".join(out)


def _ratings(sessions: sessionmaker[Session]) -> dict[int, tuple[str, int | None, str]]:
    with sessions() as session:
        rows = session.execute(select(Rating.id, Rating.track_id, Rating.value, Rating.source))
        return {r.id: (r.track_id, r.value, r.source) for r in rows}


def _job_runs(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(JobRun)) or 0


def run_soak(
    *, cycles: int, seed: int, backend: str = "sqlite", folder: Path, quiet: bool = False
) -> SoakResult:
    rng = random.Random(seed)
    world = ListenerWorld.generate(n_albums=30, seed=seed, segments_per_track=1)
    tracks: dict[str, DemoTrack] = world.tracks
    taste = world.taste
    result = SoakResult(cycles=cycles, seed=seed, tally={name: FaultTally() for name in FAULTS})
    say = (lambda _line: None) if quiet else print
    with (
        database(backend, folder, "soak") as url,
        world.serve() as sim,
    ):
        settings = sim_settings(
            base_settings(folder), sim, data_dir=folder / "data", database_url=url,
            min_ratings=12, cv_splits=3, cv_repeats=1, retrain_after_ratings=5,
            playlist_size=20, playlist_min_probability=0.0, max_per_work=2, train_jobs=1,
        )  # fmt: skip
        clock = [START]
        http = httpx.Client(timeout=10)
        wiring = wire(settings, clock=lambda: clock[0], sleep=lambda _s: None, http_client=http)
        log_in(sim, wiring.tokens)
        sessions = wiring.sessions
        _rate(sessions, rng.sample(sorted(tracks), k=12), tracks, taste, clock[0])
        seen = _ratings(sessions)
        used = list(ROUTES)
        with http:
            cycle = wiring.cycle(train_fast=True)
            for number in range(1, cycles + 1):
                clock[0] = START + timedelta(minutes=30 * number)
                planned = _inject(sim, rng, used) if number <= cycles - CLEAN_TAIL else []
                before = Counter(sim.calls)
                runs_before = _job_runs(sessions)
                problems: list[str] = []
                try:
                    report = cycle.run_once()
                except Exception as err:  # the daemon's loop would die here: a failure
                    problems.append(f"cycle {number} raised {type(err).__name__}: {err}")
                    report = None
                sim.faults.clear()
                used = [r for r in ROUTES if sim.calls[r] > before[r]] or list(ROUTES)
                fired = {
                    name: min(times, sim.calls[route] - before[route])
                    for name, route, times in planned
                }
                if report is not None:
                    for outcome in report.outcomes:
                        if outcome.status != "ok":
                            result.failed_steps[f"{outcome.job} {outcome.status}"] += 1
                    made = _job_runs(sessions) - runs_before
                    if made != len(report.outcomes):
                        problems.append(
                            f"cycle {number}: {len(report.outcomes)} steps, {made} job runs"
                        )
                now = _ratings(sessions)
                lost = [i for i, row in seen.items() if now.get(i) != row]
                if lost:
                    problems.append(f"cycle {number}: rating events lost or changed: {lost[:5]}")
                seen = now
                for name, count in fired.items():
                    if count <= 0:
                        continue
                    tally = result.tally[name]
                    tally.injected += count
                    tally.cycles += 1
                    tally.survived += 0 if problems else 1
                    tally.data_lost += len(lost)
                result.problems += problems
                if number < cycles:  # the last cycle's reactions would go unsynced
                    _listen(sim, sessions, tracks, taste, rng, clock[0], number)
                if not quiet and (number % 10 == 0 or problems):
                    say(f"cycle {number}: {len(seen)} rating events; {problems or 'checks hold'}")
        _final_checks(result, sim, sessions, settings.playlist_name)
        wiring.dispose()
    return result


def _inject(sim: SpotifySim, rng: random.Random, routes: list[str]) -> list[tuple[str, str, int]]:
    """Fail the next requests of one to three routes the last cycle used (so most faults
    fire); returns (fault, route, times)."""
    planned: list[tuple[str, str, int]] = []
    for _ in range(rng.randint(1, 3)):
        name = rng.choice(sorted(FAULTS))
        fault, times = FAULTS[name]
        route = rng.choice(routes)
        if any(route == r for _, r, _ in planned):
            continue
        sim.faults.inject(route, fault, times=times)
        planned.append((name, route, times))
    return planned


def _rate(
    sessions: sessionmaker[Session], ids: list[str], tracks: dict[str, DemoTrack],
    taste: HiddenTaste, when: Any,
) -> None:  # fmt: skip
    """Explicit ratings, as ``bachbot rate`` writes them."""
    with transaction(sessions) as session:
        for track_id in ids:
            if session.get(Track, track_id) is None:
                session.add(Track(id=track_id, name=tracks[track_id].name, is_bach=True,
                                  source="soak"))  # fmt: skip
                session.flush()
            add_rating(session=session, track_id=track_id,
                       value=max(1, min(10, round(taste.score(tracks[track_id])))),
                       source="explicit", created_at=when)  # fmt: skip


def _listen(
    sim: SpotifySim, sessions: sessionmaker[Session], tracks: dict[str, DemoTrack],
    taste: HiddenTaste, rng: random.Random, now: Any, number: int,
) -> None:  # fmt: skip
    """The listener's half hour: react to the playlist, sometimes rate or curate by hand."""
    with sessions() as session:
        bot = BOT_PLAYLIST.get(session)
    published = sim.state.playlist_track_ids(bot) if isinstance(bot, str) and (
        bot in sim.state.playlists
    ) else []  # fmt: skip
    reaction = react(published, tracks=tracks, taste=taste)
    for i, track_id in enumerate(reaction.like):
        sim.state.like(LISTENER, track_id, now + timedelta(minutes=5, seconds=i))
    for track_id in reaction.remove[:2]:
        sim.state.remove_from_playlist(str(bot), track_id)
    if number % 3 == 0:
        _rate(sessions, [rng.choice(sorted(tracks))], tracks, taste, now)
    if number % 4 == 0:
        sim.state.add_to_playlist("demo-mornings", rng.choice(sorted(tracks)), added_at=now)
    if number % 7 == 0:  # an unlike now and then (recorded at the next full pass)
        liked = sorted(sim.state.users[LISTENER].likes)
        if liked:
            sim.state.unlike(LISTENER, rng.choice(liked))


def _final_checks(
    result: SoakResult, sim: SpotifySim, sessions: sessionmaker[Session], name: str
) -> None:
    named = sim.state.find_playlists(name)
    result.playlists_named = len(named)
    if len(named) != 1:
        result.problems.append(f'{len(named)} playlists named "{name}" on Spotify (want 1)')
    for pid in named:
        items = sim.state.playlist_track_ids(pid)
        result.duplicates += len(items) - len(set(items))
    if result.duplicates:
        result.problems.append(f"{result.duplicates} duplicated items in {name!r}")
    with sessions() as session:
        running = session.scalar(
            select(func.count()).select_from(JobRun).where(JobRun.status == "running")
        )
        result.ratings = session.scalar(select(func.count()).select_from(Rating)) or 0
        recorded = liked_track_ids(session=session)
        known = set(session.scalars(select(Track.id).where(Track.is_bach.is_(True))))
    if running:
        result.problems.append(f"{running} job runs left 'running'")
    standing = set(sim.state.users[LISTENER].likes)
    result.likes_unrecorded = len((standing & known) - recorded)
    if result.likes_unrecorded:
        result.problems.append(f"{result.likes_unrecorded} likes on Spotify never became ratings")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)
    if args.cycles <= CLEAN_TAIL:
        parser.error(f"--cycles must be more than {CLEAN_TAIL} (the fault-free tail)")
    logging.basicConfig(level=logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="bachbot-soak-") as tmp:
        result = run_soak(cycles=args.cycles, seed=args.seed, backend=args.backend,
                          folder=Path(tmp))  # fmt: skip
    print(result.render())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
