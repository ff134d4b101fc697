"""``bachbot publish``: one publish pass now (the daemon does this every cycle)."""

from __future__ import annotations

import typer

from service.cli import settings_of


def register(app: typer.Typer) -> None:
    @app.command("publish")
    def publish(ctx: typer.Context) -> None:
        """Update "Predicted favourites" from the current scores (run `bachbot score` first)."""
        from jobs.publish import publish_playlist
        from service.cli.spotify_access import require_spotify
        from service.jobrunner import run_job
        from service.lock import process_lock
        from service.spotify.gateway import SpotifyGateway
        from service.store.db import open_database, session_factory
        from service.store.tokens import DbTokenStore

        settings = settings_of(ctx)
        require_spotify(settings, need='bachbot publish writes "Predicted favourites" on Spotify')
        engine = open_database(settings)
        sessions = session_factory(engine)
        spotify = SpotifyGateway(settings, DbTokenStore(sessions))
        with process_lock(engine, what="bachbot publish"):
            outcome = run_job(
                "publish",
                lambda s: publish_playlist(session=s, spotify=spotify, settings=settings),
                sessions=sessions,
            )
        if outcome.status != "ok":
            typer.echo(f"bachbot: publish {outcome.status}: {outcome.error}", err=True)
            raise typer.Exit(1)
        report = outcome.result
        verb = "rewrote" if report.rewritten else "left unchanged"
        typer.echo(
            f'{verb} "{settings.playlist_name}" ({report.published} tracks, model '
            f"{report.model_version or 'none yet'})"
            + (
                f"; {len(report.removals)} removed by you became low ratings"
                if report.removals
                else ""
            )
            + ("; it had been deleted and was created again" if report.recreated else "")
        )
