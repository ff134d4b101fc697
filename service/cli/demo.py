"""``bachbot demo``: the whole loop offline (see service.demo)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import typer

from service.cli import settings_of


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
            help="Folder for the demo's runs (default: DATA_DIR/demo); each run adds run-N.",
        ),
        fresh: bool = typer.Option(
            False, "--fresh", help="Remove earlier demo runs first (only the demo's own folders)."
        ),
    ) -> None:
        """Run bachbot offline against a local Spotify with a simulated listener."""
        from service.cli.progress import progress_line
        from service.demo_folders import check_demo_root

        settings = settings_of(ctx)
        check_demo_root(data_dir or settings.data_dir / "demo", given=data_dir is not None)
        from service.demo import run_demo  # heavy imports only once the folder is usable

        if settings.log_level == "INFO":  # the demo prints its own progress lines
            logging.getLogger().setLevel(logging.WARNING)
        # The per-cycle lines are the demo's result, so they go to stdout.
        with progress_line("bachbot demo", quiet=as_json, stream=sys.stdout) as progress:
            result = run_demo(
                settings, cycles=cycles, seed=seed, data_dir=data_dir, fresh=fresh,
                progress=progress,
            )  # fmt: skip
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
            return
        typer.echo("")
        typer.echo(
            f"The playlist after the listener's last look ({len(result.playlist)} tracks), first "
            "ten, with bachbot's predicted chance that the listener loves each and whether they do:"
        )
        for row in result.playlist[:10]:
            predicted = "  – " if row["predicted"] is None else f"{row['predicted']:4.0%}"
            verdict = "loved" if row["loved"] else "not loved"
            typer.echo(f"  {predicted}  {verdict:9s}  {row['name']}")
        typer.echo(f"\nData (database, models): {result.data_dir}")
        if result.report_path:
            typer.echo(f"Model report: {result.report_path}")
        typer.echo(
            f"Look around: BACHBOT_DATA_DIR={result.data_dir} bachbot status\n"
            "Connect your own account: see README, 'Connect your Spotify account' "
            "(create an app, set BACHBOT_SPOTIFY_CLIENT_ID/SECRET, run `bachbot auth`)."
        )
