"""Train and score in a child process, so the daemon holds no training code between cycles.

scikit-learn, scipy and a fitted model take about 130 MB the moment they are
imported, and Python never gives an imported module back.  A daemon that
trains and scores in its own process therefore sits at ~200 MB all day for
work it does a few seconds an hour: too much for the small always-on boxes
(a Raspberry Pi, a NAS) bachbot is for.  So the daemon's cycle runs these two
steps in a fresh interpreter (``python -m service.ml_worker``), which imports
the model code, does the job in its own transaction, hands the job's report
back pickled on stdout and exits; between cycles the daemon keeps only the
sync, features and publish code.

The job run is still the daemon's: :func:`service.jobrunner.run_job` records
it, its counts (plus the worker's own peak memory) and its failure, whose
exception travels back as itself when it can.  The worker must never outlive
its daemon, or write once the daemon has lost the database to another
bachbot: it asks the kernel to kill it when its parent dies (``prctl``
``PR_SET_PDEATHSIG``; a SQLite lock is the parent's ``flock``, held as long as
the parent lives), and on PostgreSQL its commit is fenced like the daemon's
own (:mod:`service.lock`): it commits only while the daemon's lock
connection still holds the advisory lock.
"""

from __future__ import annotations

import ctypes
import pickle
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from service import memory
from service.errors import BachbotError, LockLost
from service.settings import Settings

JOBS = ("train", "score")
PR_SET_PDEATHSIG = 1


class WorkerFailed(BachbotError):
    """The worker process died or answered something unreadable."""


@dataclass(frozen=True)
class WorkerJob:
    job: str
    settings: Settings
    train_fast: bool = False
    lock_pid: int | None = None
    """PostgreSQL: the backend pid of the daemon's lock connection (the commit fence)."""


@dataclass(frozen=True)
class WorkerAnswer:
    ok: bool
    result: Any
    """The job report's counts, or the exception the job raised."""
    peak_rss_mb: float | None


def run_in_worker(spec: WorkerJob) -> tuple[dict[str, Any], float | None]:
    """Run ``spec.job`` in a child process; its report's counts and the child's peak RSS.

    Raises what the job raised (or :class:`WorkerFailed` when the child died).
    """
    done = subprocess.run(
        [sys.executable, "-m", "service.ml_worker"],
        input=pickle.dumps(spec),
        capture_output=True,
        check=False,
    )
    try:
        answer = pickle.loads(done.stdout)
    except Exception as err:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise WorkerFailed(
            f"the {spec.job} worker ended with exit code {done.returncode} and no answer: "
            + (" | ".join(tail) or "no output")
        ) from err
    if not isinstance(answer, WorkerAnswer):
        raise WorkerFailed(f"the {spec.job} worker answered {type(answer).__name__}")
    if not answer.ok:
        raise answer.result
    return answer.result, answer.peak_rss_mb


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the daemon that started it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _work(spec: WorkerJob) -> Any:
    from sqlalchemy import event
    from sqlalchemy.engine import Connection

    from service.lock import _KEY_HIGH, _KEY_LOW, HOLDS_SQL
    from service.store.db import open_database, session_factory, transaction

    engine = open_database(spec.settings, migrate=False)
    if spec.lock_pid is not None:
        pid = spec.lock_pid

        def fence(conn: Connection) -> None:
            if conn.exec_driver_sql(HOLDS_SQL, (pid, _KEY_HIGH, _KEY_LOW)).first() is None:
                raise LockLost("the daemon lost the database lock; the worker writes nothing")

        event.listen(engine, "commit", fence)
    try:
        with transaction(session_factory(engine)) as session:
            if spec.job == "train":
                from jobs.train import train_and_register

                return train_and_register(
                    session=session, settings=spec.settings, fast=spec.train_fast
                )
            from jobs.score import score_tracks

            return score_tracks(session=session, settings=spec.settings)
    finally:
        engine.dispose()


def _answer(ok: bool, result: Any) -> bytes:
    """The answer, pickled.  A report travels as its counts (what the job run records):
    unpickling the report itself would import its module, and with it the model code."""
    if ok:
        from service.jobrunner import report_counts

        result = report_counts(result)
    answer = WorkerAnswer(ok, result, memory.peak_rss_mb())
    try:
        return pickle.dumps(answer)
    except Exception:  # an exception that cannot travel: its words can
        text_only = WorkerFailed(f"{type(result).__name__}: {result}")
        return pickle.dumps(WorkerAnswer(False, text_only, answer.peak_rss_mb))


def main() -> None:
    _die_with_parent()
    from service.logs import configure_logging

    spec: WorkerJob = pickle.load(sys.stdin.buffer)
    configure_logging(spec.settings.log_level)
    try:
        data = _answer(True, _work(spec))
    except Exception as err:
        data = _answer(False, err)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy's, so the answer pickles as
    # service.ml_worker.WorkerAnswer, a class the daemon can load.
    from service.ml_worker import main as worker_main

    worker_main()
