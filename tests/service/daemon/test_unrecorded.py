"""A job the database interrupted is recorded when the database answers again.

The database's failure is injected where it happens to bachbot - at a commit,
through SQLAlchemy's session events - on whichever back-end the run uses; the
end-to-end version with a real outage is tests/faults/test_database_outage.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.errors import LockLost
from service.jobrunner import BASE_BACKOFF, Unrecorded, run_job
from service.store.app_state import job_backoff
from service.store.tables import JobRun

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _dropped() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


@pytest.fixture
def commits_fail(sessions: sessionmaker[Session]) -> Iterator[list[bool]]:
    """While ``armed[0]``, every commit fails as a dropped connection makes it fail."""
    armed = [False]

    def before_commit(_session: Session) -> None:
        if armed[0]:
            raise _dropped()

    event.listen(sessions, "before_commit", before_commit)
    yield armed
    event.remove(sessions, "before_commit", before_commit)


def _runs(sessions: sessionmaker[Session]) -> list[tuple[str, str | None]]:
    with sessions() as session:
        return [(r.status, r.error) for r in session.scalars(select(JobRun).order_by(JobRun.id))]


def test_an_interrupted_job_waits_then_is_closed_as_failed_with_back_off(
    sessions: sessionmaker[Session], commits_fail: list[bool]
) -> None:
    ledger = Unrecorded()

    def work(_session: Session) -> None:
        commits_fail[0] = True  # the database goes away while the job runs
        raise _dropped()

    with pytest.raises(OperationalError):
        run_job("sync", work, sessions=sessions, now=lambda: NOW, unrecorded=ledger)
    assert _runs(sessions) == [("running", None)] and len(ledger) == 1

    with pytest.raises(OperationalError):  # still away: the failure keeps waiting
        ledger.write(sessions=sessions)
    assert len(ledger) == 1

    commits_fail[0] = False  # back
    assert ledger.write(sessions=sessions) == 1
    ((status, error),) = _runs(sessions)
    assert status == "failed"
    assert error == (
        "interrupted: the database connection was lost (server closed the connection unexpectedly)"
    )
    with sessions() as session:
        failing = job_backoff("sync").get(session)
        run = session.scalars(select(JobRun)).one()
    assert failing is not None and failing.failures == 1
    assert failing.next_at == NOW + BASE_BACKOFF  # counted from when it failed
    assert run.finished_at == NOW
    assert ledger.write(sessions=sessions) == 0


def test_a_job_stopped_by_a_lost_lock_is_closed_without_back_off(
    sessions: sessionmaker[Session],
) -> None:
    ledger = Unrecorded()

    def work(_session: Session) -> None:
        raise LockLost("bachbot run does not hold the database lock at the moment")

    with pytest.raises(LockLost):
        run_job("publish", work, sessions=sessions, now=lambda: NOW, unrecorded=ledger)
    assert _runs(sessions) == [("running", None)]

    later = NOW + timedelta(minutes=1)
    outcome = run_job("score", lambda _s: None, sessions=sessions, now=lambda: later,
                      uses_spotify=False, unrecorded=ledger)  # fmt: skip

    assert outcome.status == "ok"
    assert [s for s, _ in _runs(sessions)] == ["failed", "ok"]
    with sessions() as session:
        assert job_backoff("publish").get(session) is None
