"""The job runner: every run recorded, failures back off, Spotify pauses, nothing raises."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.jobrunner import run_job
from service.spotify.errors import (
    SpotifyAuthRevoked,
    SpotifyNotAuthenticated,
    SpotifyRateLimited,
    SpotifyUnavailable,
)
from service.store.app_state import AUTH_REVOKED, job_backoff
from service.store.tables import JobRun, Track

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _runs(sessions: sessionmaker[Session], job: str) -> list[tuple[str, str | None]]:
    with sessions() as session:
        rows = session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.id))
        return [(r.status, r.error) for r in rows]


def test_failed_job_writes_nothing_and_backs_off_then_recovers(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()

    def broken(session: Session) -> None:
        session.add(Track(id="half", name="half-written"))
        session.flush()
        raise SpotifyUnavailable(endpoint="GET /me/tracks", cause="HTTP 503", attempts=4)

    outcome = run_job("sync", broken, sessions=sessions, now=clock)
    assert outcome.status == "failed" and "503" in (outcome.error or "")
    with sessions() as session:
        assert session.get(Track, "half") is None  # rolled back
    clock.now += timedelta(minutes=1)
    assert run_job("sync", broken, sessions=sessions, now=clock).status == "skipped"
    clock.now += timedelta(minutes=5)
    assert run_job("sync", broken, sessions=sessions, now=clock).status == "failed"
    with sessions() as session:
        backoff = job_backoff("sync").get(session)
        assert backoff is not None and backoff.failures == 2
    clock.now += timedelta(minutes=9)
    assert run_job("sync", broken, sessions=sessions, now=clock).status == "skipped"
    clock.now += timedelta(minutes=2)
    ok = run_job("sync", lambda s: {"new_tracks": 3}, sessions=sessions, now=clock)
    assert ok.status == "ok" and ok.counts["new_tracks"] == 3
    with sessions() as session:
        assert job_backoff("sync").get(session) is None
    assert [s for s, _ in _runs(sessions, "sync")] == [
        "failed", "skipped", "failed", "skipped", "ok",
    ]  # fmt: skip


def test_long_rate_limit_pauses_spotify_jobs_until_resume_time(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    resume = T0 + timedelta(hours=3)

    def limited(session: Session) -> None:
        raise SpotifyRateLimited(
            endpoint="GET /me/playlists", retry_after_s=3 * 3600, resume_at=resume,
            quota_exceeded=False,
        )  # fmt: skip

    assert run_job("sync", limited, sessions=sessions, now=clock).status == "failed"
    clock.now = resume - timedelta(minutes=1)
    skipped = run_job("publish", lambda s: None, sessions=sessions, now=clock)
    assert skipped.status == "skipped" and "wait until" in (skipped.error or "")
    # Jobs that do not call Spotify go on.
    assert (
        run_job("score", lambda s: None, sessions=sessions, now=clock, uses_spotify=False).status
        == "ok"
    )
    clock.now = resume + timedelta(seconds=1)
    assert run_job("publish", lambda s: None, sessions=sessions, now=clock).status == "ok"


def test_revoked_grant_pauses_spotify_until_a_new_login(sessions: sessionmaker[Session]) -> None:
    def revoked(session: Session) -> None:
        raise SpotifyAuthRevoked(detail="invalid_grant")

    assert run_job("sync", revoked, sessions=sessions).status == "failed"
    paused = run_job("sync", lambda s: None, sessions=sessions)
    assert paused.status == "skipped" and "bachbot auth" in (paused.error or "")
    with sessions() as session:  # what `bachbot auth` does on success
        AUTH_REVOKED.clear(session)
        session.commit()
    assert run_job("sync", lambda s: None, sessions=sessions).status == "ok"


def test_unexpected_exception_is_recorded_not_raised(sessions: sessionmaker[Session]) -> None:
    def bug(session: Session) -> None:
        raise ZeroDivisionError("a bug")

    outcome = run_job("train", bug, sessions=sessions, uses_spotify=False)
    assert outcome.status == "failed"
    assert _runs(sessions, "train") == [("failed", "ZeroDivisionError: a bug")]


def test_runs_left_running_by_a_killed_process_are_closed_at_start(
    sessions: sessionmaker[Session],
) -> None:
    from service.store.jobruns import close_interrupted_runs, start_job_run

    with sessions() as session:
        start_job_run(session=session, job="sync")
        session.commit()
        assert close_interrupted_runs(session=session) == 1
        session.commit()
    assert _runs(sessions, "sync") == [
        ("failed", "interrupted: bachbot stopped before the run finished; its work was undone")
    ]


@pytest.mark.parametrize(
    ("log_failures", "lines"), [(True, 1), (False, 0)], ids=["daemon", "one-shot command"]
)
def test_a_failure_is_logged_only_where_nobody_else_reports_it(
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    log_failures: bool,
    lines: int,
) -> None:
    """The daemon's log is the only place its failures show; a one-shot command prints
    the outcome itself, so a log line there would say the same thing twice."""

    def broken(session: Session) -> None:
        raise SpotifyNotAuthenticated()

    caplog.set_level(logging.DEBUG, logger="bachbot.jobs")
    outcome = run_job("sync", broken, sessions=sessions, log_failures=log_failures)
    assert outcome.status == "failed" and "bachbot auth" in (outcome.error or "")
    shown = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(shown) == lines
