"""The model report as a job: evaluate the stored ratings and write one HTML file.

``bachbot report`` and ``bachbot demo`` both call :func:`write_report`; the
plots and tables themselves are ``models.report``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.train import Progress, evaluate_stored
from models.private_files import write_private_text
from models.report import history_points, render_report
from service.datadir import prepare_data_dir
from service.settings import Settings
from service.store.tables import ModelVersion, utcnow


@dataclass(frozen=True)
class ReportResult:
    path: Path
    message: str | None
    """Why some plots are missing (too little data), if they are."""


def write_report(
    *,
    session: Session,
    settings: Settings,
    path: Path | None = None,
    fast: bool = False,
    progress: Progress | None = None,
) -> ReportResult:
    """Evaluate the stored ratings (nested CV, as training does) and write the report."""
    run = evaluate_stored(session=session, settings=settings, fast=fast, progress=progress)
    versions = list(session.scalars(select(ModelVersion).order_by(ModelVersion.created_at)))
    result = run.result
    page = render_report(
        evaluation=result.evaluation if result else None,
        model=result.model if result else None,
        X=run.data.X,
        y=run.data.labels.loved,
        history=history_points(versions),
        message=run.message,
        generated=utcnow(),
    )
    target = path or settings.data_dir / "report.html"
    if path is None:  # the data directory: private, whichever database is in use
        prepare_data_dir(settings.data_dir)
    else:  # a place the user named: their folder's mode is theirs, the file is private
        target.parent.mkdir(parents=True, exist_ok=True)
    write_private_text(target, page)
    return ReportResult(target, run.message)
