"""Models and reports are private on every database back-end, not only beside a SQLite file.

On PostgreSQL nothing used to make the data directory private: it was created
0755 when the first model was saved, and the model files 0644.  Here the
data directory already exists with the loose mode an older bachbot left, the
umask is the usual 022, and the test's back-end is either SQLite or
PostgreSQL (``BACHBOT_TEST_DB``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from jobs.model_report import write_report
from jobs.train import train_and_register
from service.settings import Settings
from tests.jobs.test_train_score import add_tracks


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("loose_umask")
def test_models_and_reports_are_private_whatever_the_database(
    session: Session, settings: Settings
) -> None:
    settings = settings.model_copy(update={"cv_splits": 3, "cv_repeats": 1, "train_jobs": 1})
    settings.data_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o755)
    add_tracks(session, 50, rated=36)

    trained = train_and_register(session=session, settings=settings, fast=True)
    session.commit()
    report = write_report(session=session, settings=settings, fast=True)

    assert trained.status == "trained", trained
    assert _mode(settings.data_dir) == 0o700
    assert _mode(settings.models_dir) == 0o700
    files = sorted(settings.models_dir.iterdir())
    assert {p.suffix for p in files} == {".joblib", ".json"}, files
    assert {p.name: _mode(p) for p in files if _mode(p) != 0o600} == {}
    assert _mode(report.path) == 0o600
    assert not [p for p in settings.models_dir.iterdir() if p.name.endswith(".partial")]
