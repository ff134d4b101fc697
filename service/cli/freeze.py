"""``bachbot freeze [--name NAME]``: keep today's "Predicted favourites" as a playlist."""

from __future__ import annotations

import typer

from service.cli import settings_of


def register(app: typer.Typer) -> None:
    @app.command("freeze")
    def freeze(
        ctx: typer.Context,
        name: str = typer.Option(
            None,
            "--name",
            help='Name of the copy (default: "Predicted favourites YYYY-MM-DD").',
        ),
    ) -> None:
        """Copy "Predicted favourites" to a new playlist of yours that bachbot never changes."""
        from jobs.freeze import (
            FreezeReport,
            freeze_playlist,
            frozen_title,
            publication_to_freeze,
        )
        from service.cli.job_commands import run_spotify_job
        from service.errors import FreezeRefused, UsageError
        from service.store.db import database_exists, open_database, session_factory
        from service.store.tables import utcnow

        settings = settings_of(ctx)
        try:
            frozen_title(settings, utcnow(), name)
        except ValueError as err:
            raise UsageError(f"cannot freeze: {err}") from err
        # Nothing to copy is the listener's next step, not a failing job to back off from.
        if not database_exists(settings):
            raise FreezeRefused(f'nothing to freeze: "{settings.playlist_name}" does not exist yet')
        with session_factory(open_database(settings))() as session:
            publication_to_freeze(session=session, settings=settings)
        report = run_spotify_job(
            settings,
            "freeze",
            "bachbot freeze creates a playlist on Spotify",
            lambda *, session, spotify, settings: freeze_playlist(
                session=session, spotify=spotify, settings=settings, name=name
            ),
            FreezeReport,
        )
        if report.resumed:
            typer.echo(
                f'finished the copy "{report.name}" an earlier freeze was interrupted in: '
                f"{report.tracks} tracks ({report.calls} Spotify calls); bachbot will never "
                "change it. Run `bachbot freeze` again for a new copy."
            )
            return
        typer.echo(
            f'kept {report.tracks} tracks of "{settings.playlist_name}" as "{report.name}" '
            f"({report.calls} Spotify calls); bachbot will never change it"
        )
