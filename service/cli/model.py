"""``bachbot train``, ``evaluate``, ``score`` and ``report``: the taste model by hand.

``evaluate --dataset FILE.csv --target COLUMN`` runs the very same nested
evaluation on any table of numeric features, so a user can replicate the seed
on their own export without a database or a Spotify account.  With ``--json``
stdout is exactly one JSON object; notes go to stderr.
"""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli import settings_of

FAST_HELP = "Quick three-point grid (for trying things out; scores are less tuned)."
AUGMENT_HELP = "Also run the seed's +1/4 jittered-copies experiment (training folds only)."


def _echo_err(message: str) -> None:
    typer.echo(message, err=True)


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        ctx: typer.Context,
        fast: bool = typer.Option(False, "--fast", help=FAST_HELP),
        augment: bool = typer.Option(False, "--augment", help=AUGMENT_HELP),
    ) -> None:
        """Train on your ratings now; print every candidate and the promotion decision."""
        from jobs.train import TrainReport, train_and_register
        from service.jobrunner import run_job
        from service.store.db import open_database, session_factory

        settings = settings_of(ctx)
        sessions = session_factory(open_database(settings))
        outcome = run_job(
            "train",
            lambda session: train_and_register(
                session=session, settings=settings, fast=fast, augment=augment, progress=_echo_err
            ),
            sessions=sessions,
            uses_spotify=False,
        )
        result = outcome.result
        if outcome.status != "ok" or not isinstance(result, TrainReport):
            _echo_err(f"bachbot: train {outcome.status}: {outcome.error}")
            raise typer.Exit(1)
        if result.table:
            typer.echo(result.table)
            typer.echo("")
        if result.status == "skipped":
            typer.echo(f"nothing trained: {result.decision}")
            return
        kind = "cold-start fallback" if result.status == "coldstart" else "model"
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
        features: str | None = typer.Option(
            None, "--features", metavar="a,b,c", help="Feature columns (default: all numeric)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        fast: bool = typer.Option(False, "--fast", help=FAST_HELP),
        augment: bool = typer.Option(False, "--augment", help=AUGMENT_HELP),
    ) -> None:
        """Nested evaluation of every candidate, without saving or promoting anything."""
        import json

        from jobs.train import evaluate_stored, model_options
        from models.datasets import read_table
        from models.evaluate import train_model
        from models.report import comparison_text
        from service.store.db import open_database, session_factory, transaction

        settings = settings_of(ctx)
        options = model_options(settings, fast=fast, augment=augment)
        if dataset is not None:
            if not target:
                _echo_err("bachbot: --dataset needs --target COLUMN (the column to predict)")
                raise typer.Exit(2)
            wanted = [f.strip() for f in features.split(",") if f.strip()] if features else None
            table = read_table(dataset, target=target, features=wanted)
            for note in table.notes:
                _echo_err(f"note: {note}")
            result = train_model(table.X, table.y, options=options, columns=table.columns)
            if as_json:
                payload = {
                    "dataset": str(dataset),
                    "target": target,
                    "binary_target": result.evaluation.binary,
                    "ignored_columns": table.ignored,
                    "notes": table.notes,
                    **result.evaluation.to_dict(),
                }
                typer.echo(json.dumps(payload, default=str))
            else:
                typer.echo(comparison_text(result.evaluation))
            return
        with transaction(session_factory(open_database(settings))) as session:
            run = evaluate_stored(session=session, settings=settings, fast=fast, augment=augment)
        if run.result is None:
            if as_json:
                typer.echo(json.dumps({"error": run.message, "n_samples": len(run.data.y)}))
            else:
                typer.echo(run.message)
            raise typer.Exit(1)
        if as_json:
            typer.echo(json.dumps(run.result.evaluation.to_dict(), default=str))
        else:
            typer.echo(comparison_text(run.result.evaluation))

    @app.command("score")
    def score(ctx: typer.Context) -> None:
        """Score every unrated known Bach track with the promoted model."""
        from jobs.score import ScoreReport, score_tracks
        from service.jobrunner import run_job
        from service.store.db import open_database, session_factory

        settings = settings_of(ctx)
        sessions = session_factory(open_database(settings))
        outcome = run_job(
            "score",
            lambda session: score_tracks(session=session, settings=settings),
            sessions=sessions,
            uses_spotify=False,
        )
        result = outcome.result
        if outcome.status != "ok" or not isinstance(result, ScoreReport):
            _echo_err(f"bachbot: score {outcome.status}: {outcome.error}")
            raise typer.Exit(1)
        if result.status != "scored":
            _echo_err(f"bachbot: {result.message}")
            raise typer.Exit(1)
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
        from jobs.report import write_report
        from service.store.db import open_database, session_factory, transaction

        settings = settings_of(ctx)
        with transaction(session_factory(open_database(settings))) as session:
            written = write_report(session=session, settings=settings, path=output, fast=fast)
        note = f" ({written.message})" if written.message else ""
        typer.echo(f"wrote {written.path}{note}")
