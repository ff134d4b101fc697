"""``bachbot train``, ``evaluate``, ``score`` and ``report``: the taste model by hand.

``evaluate --dataset FILE.csv --target COLUMN`` runs the very same nested
evaluation on any table of numeric features, so a user can replicate the study
on their own export without a database or a Spotify account.  With ``--json``
stdout is exactly one JSON object; notes and progress go to stderr.

The model code (scikit-learn, scipy) is imported inside each command, so
``bachbot --help`` and the light commands start fast.  A command whose job
cannot be done (no ratings, no database yet) says why in one line and exits 1
without creating anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from service.cli import settings_of
from service.cli.table_options import FEATURES, GROUP, POSITIVE_AT, names

if TYPE_CHECKING:
    from service.settings import Settings

FAST_HELP = "Quick two-point grid (for trying things out; scores are less tuned)."
AUGMENT_HELP = "Also run the study's +1/4 jittered-copies experiment (training folds only)."


def _echo_err(message: str) -> None:
    typer.echo(message, err=True)


def _fail(message: str) -> typer.Exit:
    _echo_err(f"bachbot: {message}")
    return typer.Exit(1)


def _require_database(settings: Settings, what: str) -> None:
    """Refuse before opening (and so creating) a database that does not exist yet."""
    from service.store.db import database_exists

    if not database_exists(settings):
        raise _fail(
            f"nothing to {what}: there is no database in {settings.data_dir} yet; connect "
            "Spotify (`bachbot auth`) and sync, or try `bachbot demo`"
        )


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        ctx: typer.Context,
        fast: bool = typer.Option(False, "--fast", help=FAST_HELP),
        augment: bool = typer.Option(False, "--augment", help=AUGMENT_HELP),
    ) -> None:
        """Train on your ratings now; print every model and the promotion decision."""
        from jobs.train import TrainReport, train_and_register
        from service.cli.job_commands import run_local_job
        from service.cli.progress import progress_line

        settings = settings_of(ctx)
        _require_database(settings, "train")
        with progress_line("bachbot train") as progress:
            result = run_local_job(
                settings,
                job="train",
                work=lambda session: train_and_register(
                    session=session, settings=settings, fast=fast, augment=augment,
                    progress=progress, detail=progress.detail,
                ),
                expect=TrainReport,
            )  # fmt: skip
        if result.status == "skipped":
            raise _fail(f"nothing trained: {result.decision}")
        if result.table:
            typer.echo(result.table)
            typer.echo("")
        kind = "cold start" if result.status == "coldstart" else "model"
        typer.echo(f"{kind} {result.version} ({result.n_ratings} ratings): {result.decision}")

    @app.command("evaluate")
    def evaluate(
        ctx: typer.Context,
        dataset: Path | None = typer.Option(
            None, "--dataset", metavar="FILE.csv", help="Evaluate on a CSV instead of your ratings."
        ),
        target: str | None = typer.Option(
            None, "--target", metavar="COLUMN", help="Column to predict (with --dataset)."
        ),
        features: str | None = FEATURES,
        group: str | None = GROUP,
        positive_at: float | None = POSITIVE_AT,
        model: str | None = typer.Option(
            None, "--model", metavar="mlp|auto", help="Override BACHBOT_MODEL for this run."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        fast: bool = typer.Option(False, "--fast", help=FAST_HELP),
        augment: bool = typer.Option(False, "--augment", help=AUGMENT_HELP),
    ) -> None:
        """Nested evaluation of every model on the same folds, without saving anything."""
        import json

        from jobs.train import evaluate_stored, model_options
        from models.datasets import dataset_labels, read_table
        from models.evaluate import train_model
        from models.report import comparison_text
        from service.cli.progress import progress_line
        from service.errors import UsageError
        from service.store.db import transaction
        from service.wiring import wire

        settings = settings_of(ctx)
        if model is not None:
            if model not in ("mlp", "auto"):
                raise UsageError(f"--model must be mlp or auto, not {model!r}")
            settings = settings.model_copy(update={"model": model})
        if dataset is not None and not target:
            raise UsageError("--dataset needs --target COLUMN (the column to predict)")
        options = model_options(settings, fast=fast, augment=augment)
        if dataset is not None and target:
            table = read_table(dataset, target=target, features=names(features), group=names(group))
            for note in table.notes:
                _echo_err(f"note: {note}")
            labels = dataset_labels(table.y, positive_at, settings.love_threshold, target)
            with progress_line("bachbot evaluate", quiet=as_json) as progress:
                result = train_model(
                    table.X, labels, options=options, columns=table.columns,
                    groupings=table.groupings, progress=progress.detail,
                )  # fmt: skip
            if as_json:
                payload = {
                    "dataset": str(dataset),
                    "target": target,
                    "ignored_columns": table.ignored,
                    "id_like_columns": table.id_like,
                    "notes": table.notes,
                    **result.evaluation.to_dict(),
                }
                typer.echo(json.dumps(payload, default=str))
            else:
                typer.echo(comparison_text(result.evaluation))
            return
        _require_database(settings, "evaluate")
        with (
            progress_line("bachbot evaluate", quiet=as_json) as progress,
            transaction(wire(settings).sessions) as session,
        ):
            run = evaluate_stored(
                session=session, settings=settings, fast=fast, augment=augment,
                progress=progress.detail,
            )  # fmt: skip
        if run.result is None:
            if as_json:
                typer.echo(json.dumps({"error": run.message, "n_samples": run.data.n}))
            raise _fail(f"nothing to evaluate: {run.message}")
        if as_json:
            typer.echo(json.dumps(run.result.evaluation.to_dict(), default=str))
        else:
            typer.echo(comparison_text(run.result.evaluation))

    @app.command("score")
    def score(ctx: typer.Context) -> None:
        """Score every unrated known Bach track with the model in use."""
        from jobs.score import ScoreReport, score_tracks
        from service.cli.job_commands import run_local_job

        settings = settings_of(ctx)
        _require_database(settings, "score")
        result = run_local_job(
            settings,
            job="score",
            work=lambda session: score_tracks(session=session, settings=settings),
            expect=ScoreReport,
        )
        if result.status != "scored":
            raise _fail(result.message)
        typer.echo(f"scored {result.scored} tracks with {result.kind} model {result.model_version}")

    @app.command("report")
    def report(
        ctx: typer.Context,
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Where to write the HTML (default: DATA_DIR/report.html)."
        ),
        fast: bool = typer.Option(False, "--fast", help=FAST_HELP),
    ) -> None:
        """Write a self-contained HTML report with plots of what the model learnt."""
        from jobs.model_report import write_report
        from service.cli.progress import progress_line
        from service.store.db import transaction
        from service.wiring import wire

        settings = settings_of(ctx)
        _require_database(settings, "report on")
        with (
            progress_line("bachbot report") as progress,
            transaction(wire(settings).sessions) as session,
        ):
            written = write_report(
                session=session, settings=settings, path=output, fast=fast,
                progress=progress.detail,
            )  # fmt: skip
        note = f" ({written.message})" if written.message else ""
        typer.echo(f"wrote {written.path}{note}")
