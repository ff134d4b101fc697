"""``bachbot demo``: the whole loop offline (see service.demo).

The demo empties its data folder before it starts, so the folder is checked
first (:func:`service.datadir.check_data_dir`): a file, a folder bachbot may
not write, or a ``--data-dir`` that holds someone's files ends in one line and
exit code 2, with nothing deleted or written.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import typer

from service.cli import settings_of

DEMO_MARKER = ".bachbot-demo"
"""Left in a finished demo's folder: the demo may empty that folder again next time."""


def _check_target(path: Path, *, given: bool) -> None:
    """Refuse a demo folder that cannot be used, or that is not the demo's to empty."""
    from service.datadir import check_data_dir
    from service.errors import DataDirUnusable

    source = "--data-dir" if given else "BACHBOT_DATA_DIR"
    check_data_dir(path, source=source)
    if given and path.is_dir() and any(path.iterdir()) and not (path / DEMO_MARKER).exists():
        raise DataDirUnusable(
            f"--data-dir {path} already holds files, and the demo empties its folder before "
            "it starts; give it a new or empty folder (or one an earlier demo used)"
        )


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        ctx: typer.Context,
        cycles: int = typer.Option(6, "--cycles", min=1, max=50, help="Cycles to run."),
        seed: int = typer.Option(0, "--seed", help="Seed of the catalogue and the listener."),
        as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
        data_dir: Path | None = typer.Option(
            None,
            "--data-dir",
            help="Where the demo's data goes (default: DATA_DIR/demo); emptied first.",
        ),
    ) -> None:
        """Run bachbot offline against a local Spotify with a simulated listener."""
        settings = settings_of(ctx)
        target = data_dir or settings.data_dir / "demo"
        _check_target(target, given=data_dir is not None)  # before the demo empties it

        from service.cli.progress import progress_line
        from service.demo import run_demo  # heavy imports only for this command

        if settings.log_level == "INFO":  # the demo prints its own progress lines
            logging.getLogger().setLevel(logging.WARNING)
        # The per-cycle lines are the demo's result, so they go to stdout.
        with progress_line("bachbot demo", quiet=as_json, stream=sys.stdout) as progress:
            result = run_demo(
                settings, cycles=cycles, seed=seed, data_dir=target, progress=progress
            )
        (Path(result.data_dir) / DEMO_MARKER).write_text(
            "bachbot demo data; `bachbot demo` may empty this folder\n", encoding="utf-8"
        )
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
            return
        typer.echo("")
        typer.echo(f"The playlist bachbot built ({len(result.playlist)} tracks), first ten:")
        for row in result.playlist[:10]:
            typer.echo(f"  {row['hidden_taste']:4.1f}  {row['name']}")
        typer.echo(f"\nData (database, models): {result.data_dir}")
        if result.report_path:
            typer.echo(f"Model report: {result.report_path}")
        typer.echo(
            f"Look around: BACHBOT_DATA_DIR={result.data_dir} bachbot status\n"
            "Connect your own account: see README, 'Connect your Spotify account' "
            "(create an app, set BACHBOT_SPOTIFY_CLIENT_ID/SECRET, run `bachbot auth`)."
        )
