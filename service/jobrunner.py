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

When the database itself is what broke, the failure cannot be recorded when
it happens: the new transaction fails too, and the run used to stay
"running" for ever.  A caller that lives on (the daemon's cycle) passes an
:class:`Unrecorded` ledger: the failure waits there, in memory, and is
written - the run closed as failed, the back-off counted from the moment it
failed - as soon as the database answers again (the daemon's heartbeat, or
the next job, writes it).  The database's error is then raised on, so the
caller can see an outage rather than a failed job.  A job stopped because
this process no longer holds the process lock (:class:`~service.errors.LockLost`)
is not a failure of the job; it waits in the ledger the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from models.errors import ModelError
from service import memory
from service.errors import BachbotError, DatabaseError, LockLost
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
from service.store.connect import UNREACHABLE, cause_of
from service.store.db import transaction
from service.store.jobruns import finish_job_run, start_job_run
from service.store.tables import JobRun, utcnow

log = logging.getLogger("bachbot.jobs")

T = TypeVar("T")

MAX_BACKOFF = timedelta(hours=6)
ACCOUNT_RECHECK = timedelta(hours=1)
"""How long an account-wide 403 pauses Spotify work before one job asks again: the
user fixes it outside bachbot (renews Premium, edits the allow-list) and says nothing."""
BASE_BACKOFF = timedelta(minutes=5)


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


@dataclass(frozen=True)
class _Unwritten:
    """How a run ended, kept until the database can take it."""

    run_id: int
    job: str
    status: str
    """failed, or ok (the work committed; only its row could not be closed)."""
    error: str | None
    at: datetime
    counts_as_failure: bool
    """False for a lock lost or a success: no back-off."""
    counts: dict[str, Any] = field(default_factory=dict)


class Unrecorded:
    """Job failures the database could not take when they happened (see the module docstring)."""

    def __init__(self) -> None:
        self._entries: list[_Unwritten] = []
        self._mutex = threading.Lock()

    def __len__(self) -> int:
        with self._mutex:
            return len(self._entries)

    def add(self, entry: _Unwritten) -> None:
        with self._mutex:
            self._entries.append(entry)

    def write(
        self,
        *,
        sessions: sessionmaker[Session],
        base: timedelta = BASE_BACKOFF,
        log_to: bool = False,
    ) -> int:
        """Write the waiting runs in one transaction; how many.  They stay waiting if the
        database still cannot take them (its error is raised)."""
        with self._mutex:  # one writer at a time: the heartbeat and the next job both try
            entries = list(self._entries)
            if not entries:
                return 0
            with transaction(sessions) as session:
                for entry in entries:
                    self._close(session, entry, base=base, log_to=log_to)
            del self._entries[: len(entries)]
        return len(entries)

    @staticmethod
    def _close(session: Session, entry: _Unwritten, *, base: timedelta, log_to: bool) -> None:
        run = session.get(JobRun, entry.run_id)
        if run is None or run.status != "running":
            return  # another process closed it (it started while the lock was lost)
        if entry.counts_as_failure:
            failing = note_failure(
                session,
                job_backoff(entry.job),
                entry.error or "failed",
                retry_at=_retry_at(entry.at, base),
            )
            if log_to and failing.failures == 1:
                log.warning("job=%s started failing: %s", entry.job, entry.error)
        finish_job_run(
            session=session, run=run, status=entry.status, counts=entry.counts, error=entry.error
        )
        run.finished_at = entry.at


def _retry_at(failed_at: datetime, base: timedelta) -> Callable[[int], datetime]:
    return lambda failures: failed_at + min(base * 2 ** (failures - 1), MAX_BACKOFF)


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
    base_backoff: timedelta = BASE_BACKOFF,
    log_failures: bool = False,
    unrecorded: Unrecorded | None = None,
) -> JobOutcome:
    """Run ``work(session)`` as job ``job``; never raises for a job failure.

    ``log_failures``: log the failure state changes (see the module docstring);
    otherwise the caller reports ``outcome.error`` and an unexpected error's
    traceback is logged at DEBUG only.  ``unrecorded``: where a failure waits
    when the database cannot take it (see the module docstring); without one,
    such a failure is :class:`~service.errors.DatabaseError`, one line.

    Raises the database's error when it cannot be reached, and
    :class:`~service.errors.LockLost` when this process lost the process lock.
    """
    if unrecorded is not None:
        unrecorded.write(sessions=sessions, base=base_backoff, log_to=log_failures)
    with transaction(sessions) as session:
        reason = spotify_paused(session=session, now=now()) if uses_spotify else None
        reason = reason or backoff_wait(session=session, job=job, now=now())
        run = start_job_run(session=session, job=job)
        if reason:
            finish_job_run(session=session, run=run, status="skipped", error=reason)
            return JobOutcome(job, "skipped", {}, reason)
        run_id = run.id

    started = time.monotonic()
    memory.reset_peak()
    try:
        with transaction(sessions) as session:
            result = work(session)
    except LockLost as err:
        unwritten = _Unwritten(run_id, job, "failed", str(err), now(), counts_as_failure=False)
        _cannot_record(unrecorded, unwritten, err=err)
        raise
    except Exception as err:
        message = (
            str(err)
            if isinstance(err, BachbotError | ModelError)
            else f"{type(err).__name__}: {err}"
        )
        if isinstance(err, UNREACHABLE):
            message = f"interrupted: the database connection was lost ({cause_of(err)})"
        try:
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
        except (*UNREACHABLE, LockLost) as record_err:
            unwritten = _Unwritten(run_id, job, "failed", message, now(), counts_as_failure=True)
            _cannot_record(unrecorded, unwritten, err=record_err)
            raise record_err from err
        if not isinstance(err, (BachbotError, ModelError, *UNREACHABLE)):
            log.log(
                logging.ERROR if log_failures else logging.DEBUG,
                "job=%s status=failed unexpected error",
                job,
                exc_info=True,
            )
        return JobOutcome(job, "failed", {}, message)

    counts = report_counts(result)
    counts["seconds"] = round(time.monotonic() - started, 3)
    peak = memory.step_peak_mb()
    if peak is not None:
        counts["peak_rss_mb"] = round(peak, 1)
    try:
        with transaction(sessions) as session:
            run = session.get_one(JobRun, run_id)
            finish_job_run(session=session, run=run, status="ok", counts=counts)
            if note_recovery(session, job_backoff(job)):
                log.info("job=%s recovered", job)
            if uses_spotify and SPOTIFY_BLOCKED.get(session):
                SPOTIFY_BLOCKED.clear(session)
                log.info("job=%s Spotify answers again: the account-wide refusal is over", job)
    except (*UNREACHABLE, LockLost) as record_err:  # the work is committed; its row is not
        unwritten = _Unwritten(run_id, job, "ok", None, now(), False, counts)
        _cannot_record(unrecorded, unwritten, err=record_err)
        raise
    log.info("job=%s status=ok %s", job, " ".join(f"{k}={v}" for k, v in counts.items()))
    return JobOutcome(job, "ok", counts, None, result)


def _cannot_record(unrecorded: Unrecorded | None, unwritten: _Unwritten, *, err: Exception) -> None:
    """Keep a run's end the database cannot take now, or say so in one line."""
    if unrecorded is not None:
        unrecorded.add(unwritten)
        return
    if isinstance(err, LockLost):
        return  # the caller's own error says it
    what = "finished, but its run" if unwritten.status == "ok" else "was interrupted and"
    raise DatabaseError(
        f"database unreachable: {unwritten.job} {what} could not be recorded "
        f"({cause_of(err)}); check that the database is running, then run it again"
    ) from err


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
