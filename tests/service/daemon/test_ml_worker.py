"""Train and score in a worker process: the same work, the same reports, the daemon's lock.

The daemon runs these two jobs in ``python -m service.ml_worker`` so it holds
no model code between cycles; what a user sees must not change: the model is
trained and promoted, every unrated track is scored, and a job's error is the
job's error.  The worker writes only while the daemon holds the lock.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.errors import LockLost
from service.ml_worker import WorkerJob, run_in_worker
from service.settings import Settings
from service.store.tables import ModelVersion, Prediction
from tests.jobs.test_train_score import add_tracks


@pytest.fixture
def quick_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"cv_splits": 3, "cv_repeats": 1, "train_jobs": 1})


def test_worker_trains_promotes_and_scores_every_unrated_track(
    session: Session, quick_settings: Settings
) -> None:
    add_tracks(session, 60, rated=40)
    session.commit()

    trained, train_peak = run_in_worker(WorkerJob("train", quick_settings, train_fast=True))
    scored, score_peak = run_in_worker(WorkerJob("score", quick_settings))

    assert trained["status"] == "trained" and trained["promoted"], trained["decision"]
    assert scored["status"] == "scored" and scored["scored"] == 20
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Prediction)) == 20
    assert session.scalars(select(ModelVersion)).one().promoted
    assert train_peak is not None and score_peak is not None and score_peak > 0


def test_worker_without_a_model_says_so_as_the_job_does(
    session: Session, quick_settings: Settings
) -> None:
    scored, _ = run_in_worker(WorkerJob("score", quick_settings))

    assert scored["status"] == "no_model"
    assert "bachbot train" in scored["message"]


def test_worker_commits_nothing_once_the_daemon_lost_its_lock(
    session: Session, quick_settings: Settings
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the commit fence asks PostgreSQL (SQLite's flock dies with the daemon)")
    add_tracks(session, 60, rated=40)
    session.commit()
    nobody = 1  # no server process with this pid holds bachbot's advisory lock

    with pytest.raises(LockLost):
        run_in_worker(WorkerJob("train", quick_settings, train_fast=True, lock_pid=nobody))

    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ModelVersion)) == 0
