"""The record of every job run: what ran, when, how it ended, with its counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.tables import JobRun, utcnow


def start_job_run(*, session: Session, job: str) -> JobRun:
    run = JobRun(job=job, started_at=utcnow(), status="running", counts={})
    session.add(run)
    session.flush()
    return run


def finish_job_run(
    *,
    session: Session,
    run: JobRun,
    status: str,
    counts: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> JobRun:
    run.status = status
    run.finished_at = utcnow()
    run.counts = dict(counts or {})
    run.error = error
    session.add(run)
    session.flush()
    return run


def last_runs(*, session: Session) -> list[JobRun]:
    """The latest run of each job, newest first."""
    latest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    return list(
        session.scalars(
            select(JobRun).join(latest, JobRun.id == latest.c.id).order_by(JobRun.id.desc())
        )
    )


def last_success(*, session: Session, job: str) -> JobRun | None:
    return session.scalars(
        select(JobRun)
        .where(JobRun.job == job, JobRun.status == "ok")
        .order_by(JobRun.id.desc())
        .limit(1)
    ).first()


def close_interrupted_runs(*, session: Session) -> int:
    """Mark runs left ``running`` by a process that died (kill -9, power loss) as failed.

    Call only while holding the process lock: then nothing else can be running.
    Their work was rolled back by the database; the row just says so.
    """
    rows = list(session.scalars(select(JobRun).where(JobRun.status == "running")))
    for run in rows:
        run.status = "failed"
        run.finished_at = utcnow()
        run.error = "interrupted: bachbot stopped before the run finished; its work was undone"
    session.flush()
    return len(rows)
