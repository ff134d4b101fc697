"""``bachbot run``: the daemon."""

from __future__ import annotations

import typer

from service.cli import settings_of


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(ctx: typer.Context) -> None:
        """Run the daemon: sync, features, training, scoring and publishing on a schedule,
        with the status page at http://127.0.0.1:8888/."""
        from service.cli.spotify_access import require_spotify

        settings = settings_of(ctx)
        # No login is needed yet (the daemon completes one at /callback), but an app is.
        require_spotify(settings, need="bachbot run syncs with Spotify", token=False)
        from service.daemon import run_daemon  # heavy imports only for this command

        raise typer.Exit(run_daemon(settings))
