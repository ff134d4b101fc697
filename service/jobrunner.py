"""Runs one job: records it in job_runs, logs state changes, and decides what a failure means.

Every job, whether the scheduler or the CLI starts it, goes through
:func:`run_job`.  The job's own work happens in one transaction that is
rolled back on failure, so a failed or killed job leaves nothing half-written
- except at the job's explicit checkpoints
(:func:`service.store.db.checkpoint`): where something outside the database
has already happened (a playlist created on Spotify, a chunk of features
fetched, the user's removals read), the job commits what it has so far, so
a crash after it neither repeats the outside action nor loses the user's
signal.  Each job's docstring lists its checkpoints and why a crash at each
is safe.  The job-run row is written in a separate transaction so the
failure itself is never lost.

Failure policy (kept in :mod:`service.store.app_state`):

* ``SpotifyRateLimited``: Spotify work pauses until ``resume_at``
  (``SPOTIFY_RESUME_AT``); nothing is retried before then.
* ``SpotifyAccountBlocked`` (a 403 on the whole app or user): Spotify work
  pauses (``SPOTIFY_BLOCKED``) and is re-checked after ``ACCOUNT_RECHECK``;
  nothing is marked refused for good.
* ``SpotifyAuthRevoked`` / ``SpotifyNotAuthenticated``: Spotify work pauses
  until ``bachbot auth`` stores a new token (``AUTH_REVOKED``).
* anything else: the job is retried on schedule with exponential backoff
  (``job_backoff(job)``: consecutive failures and the next allowed time).

A failure is logged once when it starts and once when the job recovers, not
on every tick, by callers that ask for it (``log_failures=True``: the daemon's
cycle, whose log is the only place anyone sees it).  A one-shot command
prints the outcome itself, so there a failure is one line, not two.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from models.errors import ModelError
from service.errors import BachbotError
from service.spotify.errors import (
    SpotifyAccountBlocked,
    SpotifyAuthRevoked,
    SpotifyError,
    SpotifyNotAuthenticated,
    SpotifyRateLimited,
)
from service.store.app_state import (
    AUTH_REVOKED,
    SPOTIFY_BLOCKED,
    SPOTIFY_RESUME_AT,
    job_backoff,
    note_failure,
    note_recovery,
)
from service.store.db import transaction
from service.store.jobruns import finish_job_run, start_job_run
from service.store.tables import JobRun, utcnow

log = logging.getLogger("bachbot.jobs")

T = TypeVar("T")

MAX_BACKOFF = timedelta(hours=6)
ACCOUNT_RECHECK = timedelta(hours=1)
"""How long an account-wide 403 pauses Spotify work before one job asks again: the
user fixes it outside bachbot (renews Premium, edits the allow-list) and says nothing."""


@dataclass(frozen=True)
class JobOutcome:
    job: str
    status: str
    """ok, failed or skipped."""
    counts: dict[str, Any]
    error: str | None = None
    result: Any = None


def report_counts(result: object) -> dict[str, Any]:
    """A job report as JSON-safe counts for the job_runs row."""
    if result is None:
        return {}
    if is_dataclass(result) and not isinstance(result, type):
        raw: Mapping[str, Any] = asdict(result)
    elif isinstance(result, Mapping):
        raw = result
    else:
        return {"result": str(result)}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and len(value) > 160:
            continue  # prose (a report table) belongs in the log, not in the counts
        if isinstance(value, bool | int | float | str) or value is None:
            out[key] = value
        elif isinstance(value, list | tuple | set | frozenset | dict):
            out[key] = len(value)
        else:
            out[key] = str(value)
    return out


def spotify_paused(*, session: Session, now: datetime | None = None) -> str | None:
    """Why Spotify work must wait right now, or None."""
    now = now or utcnow()
    if AUTH_REVOKED.get(session):
        return "Spotify access was revoked or never granted: run `bachbot auth`"
    resume_at = SPOTIFY_RESUME_AT.get(session)
    if resume_at is not None and resume_at > now:
        blocked = SPOTIFY_BLOCKED.get(session)
        if blocked:
            return f"{blocked} (next check {resume_at.isoformat(timespec='minutes')})"
        return f"Spotify asked bachbot to wait until {resume_at.isoformat()}"
    return None


def backoff_wait(*, session: Session, job: str, now: datetime | None = None) -> str | None:
    """Why ``job`` is still backing off after failures, or None."""
    failing = job_backoff(job).get(session)
    if failing is None or failing.next_at is None:
        return None
    if failing.next_at > (now or utcnow()):
        return (
            f"backing off after {failing.failures} failure(s) until {failing.next_at.isoformat()}"
        )
    return None


def run_job(
    job: str,
    work: Callable[[Session], T],
    *,
    sessions: sessionmaker[Session],
    uses_spotify: bool = True,
    now: Callable[[], datetime] = utcnow,
    base_backoff: timedelta = timedelta(minutes=5),
    log_failures: bool = False,
) -> JobOutcome:
    """Run ``work(session)`` as job ``job``; never raises for a job failure.

    ``log_failures``: log the failure state changes (see the module docstring);
    otherwise the caller reports ``outcome.error`` and an unexpected error's
    traceback is logged at DEBUG only.
    """
    with transaction(sessions) as session:
        reason = spotify_paused(session=session, now=now()) if uses_spotify else None
        reason = reason or backoff_wait(session=session, job=job, now=now())
        run = start_job_run(session=session, job=job)
        if reason:
            finish_job_run(session=session, run=run, status="skipped", error=reason)
            return JobOutcome(job, "skipped", {}, reason)
        run_id = run.id

    started = time.monotonic()
    try:
        with transaction(sessions) as session:
            result = work(session)
    except Exception as err:
        message = (
            str(err)
            if isinstance(err, BachbotError | ModelError)
            else f"{type(err).__name__}: {err}"
        )
        with transaction(sessions) as session:
            _record_failure(
                session=session,
                job=job,
                err=err,
                now=now(),
                base=base_backoff,
                log_to=log_failures,
            )
            run = session.get_one(JobRun, run_id)
            finish_job_run(session=session, run=run, status="failed", error=message)
        if not isinstance(err, BachbotError | ModelError):
            log.log(
                logging.ERROR if log_failures else logging.DEBUG,
                "job=%s status=failed unexpected error",
                job,
                exc_info=True,
            )
        return JobOutcome(job, "failed", {}, message)

    counts = report_counts(result)
    counts["seconds"] = round(time.monotonic() - started, 3)
    with transaction(sessions) as session:
        run = session.get_one(JobRun, run_id)
        finish_job_run(session=session, run=run, status="ok", counts=counts)
        if note_recovery(session, job_backoff(job)):
            log.info("job=%s recovered", job)
        if uses_spotify and SPOTIFY_BLOCKED.get(session):
            SPOTIFY_BLOCKED.clear(session)
            log.info("job=%s Spotify answers again: the account-wide refusal is over", job)
    log.info("job=%s status=ok %s", job, " ".join(f"{k}={v}" for k, v in counts.items()))
    return JobOutcome(job, "ok", counts, None, result)


def _record_failure(
    *, session: Session, job: str, err: Exception, now: datetime, base: timedelta, log_to: bool
) -> None:

    def say(level: int, message: str, *args: object) -> None:
        if log_to:
            log.log(level, message, *args)

    if isinstance(err, SpotifyAccountBlocked):
        if not SPOTIFY_BLOCKED.get(session):
            say(logging.ERROR, "job=%s paused all Spotify work: %s", job, err)
        SPOTIFY_BLOCKED.put(session, str(err))
        SPOTIFY_RESUME_AT.put(session, now + ACCOUNT_RECHECK)
        return
    if isinstance(err, SpotifyRateLimited):
        SPOTIFY_RESUME_AT.put(session, err.resume_at)
        say(logging.WARNING, "job=%s paused: %s", job, err)
        return
    if isinstance(err, SpotifyAuthRevoked | SpotifyNotAuthenticated):
        if not AUTH_REVOKED.get(session):
            say(logging.ERROR, "job=%s stopped Spotify work: %s", job, err)
        AUTH_REVOKED.put(session, str(err) or "Spotify refused the token")
        return
    failing = note_failure(
        session,
        job_backoff(job),
        str(err),
        retry_at=lambda failures: now + min(base * 2 ** (failures - 1), MAX_BACKOFF),
    )
    if failing.failures == 1:
        kind = "Spotify" if isinstance(err, SpotifyError) else "job"
        say(logging.WARNING, "job=%s started failing (%s error): %s", job, kind, err)
