"""What a kill trial checks once the daemon it killed has restarted, cycled and stopped.

Each check returns the problems it found, by kind (``lost``, ``duplicated``,
``orphaned``, ``stuck``, ``other``), in words a reader of the trial table can
act on.  The checks read the database and the local Spotify as a user would
see them; none of them trusts bachbot's own report of what it did.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.processes import kill_all, wait_until_gone
from service.demo_world import LISTENER
from service.errors import LockHeld
from service.lock import ProcessLock
from service.store.db import current_revision
from service.store.tables import JobRun, ModelVersion, Rating, Track

if TYPE_CHECKING:
    from bench.kill_trials import TrialWorld

Snapshot = dict[int, tuple[str, int | None, str, int | None]]
ORPHAN_GRACE_S = 15.0
"""Hang guard for processes to go after their daemon stopped (they go at once as a rule)."""


@dataclass
class Expected:
    """What the listener did, as the local Spotify saw it: what bachbot must have recorded."""

    liked: dict[str, datetime] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)


def ratings_snapshot(sessions: sessionmaker[Session]) -> Snapshot:
    with sessions() as session:
        return {
            r.id: (r.track_id, r.value, r.source, r.retracts_id)
            for r in session.scalars(select(Rating))
        }


def check_trial(
    *, world: TrialWorld, before: Snapshot, exit_code: int, marks: list[str]
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    _daemon(world, exit_code, marks, found)
    with world.sessions() as session:
        _ratings(session, world.expected, before, found)
        _runs_and_models(session, found)
        _integrity(session, found)
    _playlist(world, found)
    _lock_free(world, found)
    return dict(found)


def _daemon(
    world: TrialWorld, exit_code: int, marks: list[str], found: dict[str, list[str]]
) -> None:
    output = world.daemon.output()
    if exit_code != 0:
        found["stuck"].append(f"bachbot run exited {exit_code} on SIGTERM")
    if "Traceback" in output:
        found["other"].append("a traceback in the daemon's output")
        world.daemon.log.write_text("")  # report each traceback once
    for mark in marks:
        left = wait_until_gone(mark, within_s=ORPHAN_GRACE_S)
        if left:
            found["orphaned"].append(f"{len(left)} process(es) of run {mark} alive: {left}")
            kill_all(mark)


def _ratings(
    session: Session, expected: Expected, before: Snapshot, found: dict[str, list[str]]
) -> None:
    rows = list(session.scalars(select(Rating).order_by(Rating.id)))
    now = {r.id: (r.track_id, r.value, r.source, r.retracts_id) for r in rows}
    gone = [i for i, row in before.items() if now.get(i) != row]
    if gone:
        found["lost"].append(f"{len(gone)} rating event(s) recorded before the kill changed")
    by_track: dict[str, list[Rating]] = defaultdict(list)
    for row in rows:
        by_track[row.track_id].append(row)
    bach = set(session.scalars(select(Track.id).where(Track.is_bach.is_(True))))
    for track_id in sorted(expected.removed):
        removals = [r for r in by_track.get(track_id, []) if r.source == "removal"]
        if not removals:
            found["lost"].append(f"the listener's removal of {track_id} was not recorded")
    for track_id in sorted(set(expected.liked) & bach):
        if not _standing_like(by_track.get(track_id, [])):
            found["lost"].append(f"the listener's like of {track_id} was not recorded")
    for track_id, events in by_track.items():
        for source in ("removal", "exposure"):
            count = sum(r.source == source for r in events)
            if count > 1:
                found["duplicated"].append(f"{count} {source} events for {track_id}")
        if _like_twice(events):
            found["duplicated"].append(f"a like of {track_id} recorded twice")


def _standing_like(events: list[Rating]) -> bool:
    retracted = {r.retracts_id for r in events if r.retracts_id is not None}
    return any(r.source == "like" and r.id not in retracted for r in events)


def _like_twice(events: list[Rating]) -> bool:
    """Two likes of one track with no unlike between them."""
    standing = False
    for event in events:
        if event.source == "like":
            if standing:
                return True
            standing = True
        elif event.source == "unlike":
            standing = False
    return False


def _runs_and_models(session: Session, found: dict[str, list[str]]) -> None:
    running = session.scalar(
        select(func.count()).select_from(JobRun).where(JobRun.status == "running")
    )
    if running:
        found["stuck"].append(f"{running} job run(s) left 'running' after a clean stop")
    promoted = list(session.scalars(select(ModelVersion).where(ModelVersion.promoted.is_(True))))
    if len(promoted) > 1:
        found["other"].append(f"{len(promoted)} models promoted at once")
    for model in promoted:
        path = Path(model.artifact_path or "")
        if not path.is_file():
            found["lost"].append(f"the promoted model {model.version} has no artifact")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != model.sha256:
            found["other"].append(f"the promoted model {model.version} does not match its sha256")


def _integrity(session: Session, found: dict[str, list[str]]) -> None:
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        verdict = session.execute(text("PRAGMA integrity_check")).scalars().all()
        if verdict != ["ok"]:
            found["other"].append(f"SQLite integrity check: {verdict[:3]}")
        broken = session.execute(text("PRAGMA foreign_key_check")).all()
        if broken:
            found["other"].append(f"{len(broken)} row(s) break a foreign key")
    orphans = session.scalar(
        select(func.count()).select_from(Rating).where(~Rating.track_id.in_(select(Track.id)))
    )
    if orphans:
        found["other"].append(f"{orphans} rating(s) of tracks that are not stored")
    engine = session.get_bind()
    if current_revision(engine) is None:  # type: ignore[arg-type]
        found["other"].append("the database has no schema revision")


def _playlist(world: TrialWorld, found: dict[str, list[str]]) -> None:
    state = world.sim.state
    name = world.settings.playlist_name
    with state.lock:
        visible = [
            p
            for p in state.users[LISTENER].followed_playlists
            if p in state.playlists and state.playlists[p].name == name
        ]
    if len(visible) != 1:
        found["duplicated" if len(visible) > 1 else "lost"].append(
            f"{len(visible)} playlists named {name!r}"
        )
    for playlist in visible:
        items = state.playlist_track_ids(playlist)
        if len(items) != len(set(items)):
            found["duplicated"].append(f"a track twice in {playlist}")


def _lock_free(world: TrialWorld, found: dict[str, list[str]]) -> None:
    lock = ProcessLock(world.engine, what="the kill-trial check")
    try:
        lock.acquire()
    except LockHeld as err:
        found["stuck"].append(f"the process lock is still held after the stop: {err}")
        return
    lock.release()
