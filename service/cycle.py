"""One bachbot cycle: sync, features, retrain when due, score, publish (, freeze when due).

The daemon runs :meth:`Cycle.run_once` on its schedule; ``bachbot demo``, the
benchmarks and the end-to-end tests call it directly.  Each step is a plain
job function from ``jobs/`` run through :func:`service.jobrunner.run_job`, so
every step is recorded, atomic, and isolated: a failing feature provider does
not stop scoring, a paused Spotify does not stop training on what is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.features import compute_features
from jobs.freeze import freeze_due, freeze_playlist
from jobs.publish import publish_playlist
from jobs.sync import sync_library
from service import memory
from service.jobrunner import JobOutcome, Unrecorded, run_job, spotify_paused
from service.ml_worker import WorkerJob, run_in_worker
from service.settings import Settings
from service.spotify.gateway import SpotifyGateway
from service.store.app_state import LAST_FREEZE, TRAIN_MARK
from service.store.tables import ModelVersion, Rating, utcnow

log = logging.getLogger("bachbot.cycle")

"""The newest rating id the last training saw."""


def retrain_due(
    *,
    last_model_at: datetime | None,
    ratings_total: int,
    ratings_since_model: int,
    now: datetime,
    settings: Settings,
) -> bool:
    """Train when there is no model yet, the model is a day old, or enough new ratings came."""
    if ratings_total < 2:
        return False
    if last_model_at is None:
        return True
    if ratings_since_model >= settings.retrain_after_ratings:
        return True
    return ratings_since_model > 0 and now - last_model_at >= timedelta(
        hours=settings.retrain_hours
    )


@dataclass
class CycleReport:
    outcomes: list[JobOutcome] = field(default_factory=list)

    def by_job(self) -> dict[str, JobOutcome]:
        return {o.job: o for o in self.outcomes}

    def succeeded(self, job: str) -> bool:
        outcome = self.by_job().get(job)
        return outcome is not None and outcome.status == "ok"


@dataclass
class Cycle:
    """The jobs of one cycle with the session factory, gateway and settings they share.

    Built by :meth:`service.wiring.Wiring.cycle`, never by hand.
    """

    settings: Settings
    sessions: sessionmaker[Session]
    spotify: SpotifyGateway
    http_client: httpx.Client | None = None
    clock: Callable[[], datetime] = utcnow
    train_fast: bool = False
    isolate_ml: bool = False
    """Train and score in a worker process (:mod:`service.ml_worker`): the daemon's choice,
    so it holds no model code between cycles; in-process for the demo, tests and benches."""
    lock_pid: Callable[[], int | None] = lambda: None
    """PostgreSQL: the daemon's lock connection pid, for the worker's commit fence."""
    unrecorded: Unrecorded = field(default_factory=Unrecorded)
    """Failures the database could not take when it was the failure (see service.jobrunner)."""

    def spotify_stats(self) -> dict[str, dict[str, int]]:
        """Requests made so far per endpoint, and failed attempts per ``"endpoint|kind"``
        (for /metrics)."""
        errors = {f"{endpoint}|{kind}": n for (endpoint, kind), n in self.spotify.errors.items()}
        return {"calls": dict(self.spotify.calls), "errors": errors}

    def _due(self) -> tuple[bool, int]:
        """Whether to retrain now, and the newest rating id the training will see.

        New ratings are counted by id past the mark left by the last training,
        so the rule does not depend on whose clock stamped them.
        """
        with self.sessions() as session:
            model_at = session.scalar(select(func.max(ModelVersion.created_at)))
            newest = session.scalar(select(func.max(Rating.id))) or 0
            total = session.scalar(select(func.count()).select_from(Rating)) or 0
            mark = TRAIN_MARK.get(session) or 0
            since = (
                session.scalar(select(func.count()).select_from(Rating).where(Rating.id > mark))
                or 0
            )
        due = retrain_due(
            last_model_at=model_at,
            ratings_total=total,
            ratings_since_model=since,
            now=self.clock(),
            settings=self.settings,
        )
        return due, newest

    def _in_worker(self, job: str) -> Any:
        spec = WorkerJob(job, self.settings, train_fast=self.train_fast, lock_pid=self.lock_pid())
        result, peak = run_in_worker(spec)
        memory.note_child_peak(peak)
        return result

    def run_once(self, *, should_stop: Callable[[], bool] = lambda: False) -> CycleReport:
        report = CycleReport()
        settings, spotify = self.settings, self.spotify

        def step(name: str, work: Callable[[Session], Any], *, uses_spotify: bool) -> None:
            if should_stop():
                return
            report.outcomes.append(
                run_job(
                    name,
                    work,
                    sessions=self.sessions,
                    uses_spotify=uses_spotify,
                    now=self.clock,
                    log_failures=True,  # a cycle's log is where its failures are seen
                    unrecorded=self.unrecorded,
                )
            )

        step(
            "sync",
            lambda s: sync_library(session=s, spotify=spotify, settings=settings, now=self.clock()),
            uses_spotify=True,
        )

        def features(session: Session) -> Any:
            # Title metadata and ReccoBeats do not need Spotify: while Spotify work
            # is paused, describe new tracks without the Spotify audio provider.
            paused = spotify_paused(session=session, now=self.clock())
            return compute_features(
                session=session,
                spotify=None if paused else spotify,
                settings=settings,
                http_client=self.http_client,
            )

        step("features", features, uses_spotify=False)
        due, newest = self._due()
        if due:

            def train(session: Session) -> Any:
                if self.isolate_ml:
                    report = self._in_worker("train")
                else:
                    from jobs.train import train_and_register

                    report = train_and_register(
                        session=session, settings=settings, fast=self.train_fast
                    )
                TRAIN_MARK.put(session, newest)
                return report

            step("train", train, uses_spotify=False)

        def score(session: Session) -> Any:
            if self.isolate_ml:
                return self._in_worker("score")
            from jobs.score import score_tracks

            return score_tracks(session=session, settings=settings)

        step("score", score, uses_spotify=False)
        step(
            "publish",
            lambda s: publish_playlist(
                session=s,
                spotify=spotify,
                settings=settings,
                now=self.clock(),
                listing_fresh=report.succeeded("sync"),
            ),
            uses_spotify=True,
        )
        if report.succeeded("publish") and self._freeze_due():
            step(
                "freeze",
                lambda s: freeze_playlist(
                    session=s, spotify=spotify, settings=settings, now=self.clock()
                ),
                uses_spotify=True,
            )
        return report

    def _freeze_due(self) -> bool:
        """``BACHBOT_FREEZE_EVERY_DAYS``: keep a dated copy of the playlist once per period."""
        if not self.settings.freeze_every_days:
            return False
        with self.sessions() as session:
            last = LAST_FREEZE.get(session)
        return freeze_due(last=last, now=self.clock(), every_days=self.settings.freeze_every_days)
