"""``bachbot train``, ``evaluate``, ``score`` and ``report``: the taste model by hand.

``evaluate --dataset FILE.csv --target COLUMN`` runs the very same nested
evaluation on any table of numeric features, so a user can replicate the seed
on their own export without a database or a Spotify account.  With ``--json``
stdout is exactly one JSON object; notes go to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from jobs.report import write_report
from jobs.score import ScoreReport, score_tracks
from jobs.train import (
    TrainReport,
    evaluate_stored,
    model_options,
    train_and_register,
)
from models.datasets import dataset_labels, read_table
from models.evaluate import train_model
from models.report import comparison_text
from service.cli import settings_of
from service.jobrunner import run_job
from service.store.db import open_database, session_factory, transaction

FAST_HELP = "Quick three-point grid (for trying things out; scores are less tuned)."
AUGMENT_HELP = "Also run the seed's +1/4 jittered-copies experiment (training folds only)."


def _echo_err(message: str) -> None:
    typer.echo(message, err=True)


def _split(text: str | None) -> list[str] | None:
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    return names or None


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        ctx: typer.Context,
        fast: bool = typer.Option(False, "--fast", help=FAST_HELP),
        augment: bool = typer.Option(False, "--augment", help=AUGMENT_HELP),
    ) -> None:
        """Train on your ratings now; print every candidate and the promotion decision."""
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
            None,
            "--features",
            metavar="a,b,c",
            help="Feature columns (default: every numeric column except ID-like ones).",
        ),
        group: str | None = typer.Option(
            None,
            "--group",
            metavar="a,b",
            help="Columns whose values mark related rows (same song, same work); "
            "kept on one side of every split.",
        ),
        positive_at: float | None = typer.Option(
            None,
            "--positive-at",
            metavar="VALUE",
            help="Target values at or above this count as loved (default: 0/1 as is, "
            "1-10 ratings from BACHBOT_LOVE_THRESHOLD).",
        ),
        model: str | None = typer.Option(
            None, "--model", metavar="mlp|auto", help="Override BACHBOT_MODEL for this run."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        fast: bool = typer.Option(False, "--fast", help=FAST_HELP),
        augment: bool = typer.Option(False, "--augment", help=AUGMENT_HELP),
    ) -> None:
        """Nested evaluation of every model on the same folds, without saving anything."""
        settings = settings_of(ctx)
        if model is not None:
            if model not in ("mlp", "auto"):
                _echo_err(f"bachbot: --model must be mlp or auto, not {model!r}")
                raise typer.Exit(2)
            settings = settings.model_copy(update={"model": model})
        options = model_options(settings, fast=fast, augment=augment)
        say = None if as_json else _echo_err
        if dataset is not None:
            if not target:
                _echo_err("bachbot: --dataset needs --target COLUMN (the column to predict)")
                raise typer.Exit(2)
            wanted = _split(features)
            table = read_table(dataset, target=target, features=wanted, group=_split(group))
            for note in table.notes:
                _echo_err(f"note: {note}")
            labels = dataset_labels(table.y, positive_at, settings.love_threshold, target)
            result = train_model(
                table.X, labels, options=options, columns=table.columns,
                groupings=table.groupings, progress=say,
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
        with transaction(session_factory(open_database(settings))) as session:
            run = evaluate_stored(
                session=session, settings=settings, fast=fast, augment=augment, progress=say
            )
        if run.result is None:
            if as_json:
                typer.echo(json.dumps({"error": run.message, "n_samples": run.data.n}))
            else:
                _echo_err(f"bachbot: nothing to evaluate: {run.message}")
            raise typer.Exit(1)
        if as_json:
            typer.echo(json.dumps(run.result.evaluation.to_dict(), default=str))
        else:
            typer.echo(comparison_text(run.result.evaluation))

    @app.command("score")
    def score(ctx: typer.Context) -> None:
        """Score every unrated known Bach track with the promoted model."""
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
        settings = settings_of(ctx)
        with transaction(session_factory(open_database(settings))) as session:
            written = write_report(session=session, settings=settings, path=output, fast=fast)
        note = f" ({written.message})" if written.message else ""
        typer.echo(f"wrote {written.path}{note}")
