"""``bachbot sync``, ``bachbot rate`` and ``bachbot import-ratings``.

``sync`` runs one cycle exactly as the daemon would (through the job runner,
holding the process lock, so it never doubles the daemon's Spotify calls);
the rating commands write in one transaction each, so an import that fails
leaves nothing behind.
"""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jobs.rating_input import parse_rating, parse_ratings_csv, parse_track_ref
from jobs.ratings import import_ratings, rate_track
from jobs.sync import SyncReport, render_sync_report, sync_library
from service.cli import settings_of
from service.errors import ConfigError
from service.jobrunner import run_job
from service.lock import process_lock
from service.settings import Settings
from service.spotify.gateway import SpotifyGateway
from service.store.db import open_database, session_factory, transaction
from service.store.tokens import DbTokenStore


def _open(settings: Settings) -> tuple[Engine, sessionmaker[Session], SpotifyGateway]:
    engine = open_database(settings)
    sessions = session_factory(engine)
    return engine, sessions, SpotifyGateway(settings, DbTokenStore(sessions))


def register(app: typer.Typer) -> None:
    @app.command("sync")
    def sync(ctx: typer.Context) -> None:
        """Run one sync cycle now: playlists, Liked Songs, listening, the catalogue walk."""
        settings = settings_of(ctx)
        engine, sessions, spotify = _open(settings)
        with process_lock(engine, what="bachbot sync"):
            outcome = run_job(
                "sync",
                lambda session: sync_library(session=session, spotify=spotify, settings=settings),
                sessions=sessions,
            )
        if outcome.status != "ok" or not isinstance(outcome.result, SyncReport):
            typer.echo(f"bachbot: sync {outcome.status}: {outcome.error}", err=True)
            raise typer.Exit(1)
        typer.echo(render_sync_report(outcome.result))

    @app.command("rate")
    def rate(
        ctx: typer.Context,
        track: str = typer.Argument(
            ..., help="Track id, spotify:track:URI or open.spotify.com link."
        ),
        rating: str = typer.Argument(..., help="1 (dislike) to 10 (love)."),
    ) -> None:
        """Rate one track; an explicit rating outranks likes and removals."""
        settings = settings_of(ctx)
        try:  # a typo is reported before anything needs Spotify
            parse_track_ref(track)
            parse_rating(rating)
        except ValueError as err:
            raise ConfigError(f"cannot rate: {err}") from err
        _, sessions, spotify = _open(settings)
        with transaction(sessions) as session:
            result = rate_track(
                session=session, spotify=spotify, settings=settings, ref=track, value=rating
            )
        note = "" if result.is_bach else " (not a Bach recording by your rules; kept anyway)"
        fetched = " (fetched from Spotify)" if result.fetched else ""
        typer.echo(f'rated "{result.name}" {result.value}/10{fetched}{note}')

    @app.command("import-ratings")
    def import_ratings_command(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="CSV: track id/URI/link, rating (header optional)."),
    ) -> None:
        """Import explicit ratings from a CSV file, all or nothing."""
        settings = settings_of(ctx)
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(
                f"cannot read {file}: {err.__class__.__name__}: {err}; "
                "give the path of a UTF-8 CSV file"
            ) from err
        lines = parse_ratings_csv(text, source=str(file))
        _, sessions, spotify = _open(settings)

        def progress(done: int, total: int, track_id: str) -> None:
            typer.echo(f"fetched {done}/{total} unknown tracks ({track_id})", err=True)

        with transaction(sessions) as session:
            report = import_ratings(
                session=session,
                spotify=spotify,
                settings=settings,
                lines=lines,
                source=str(file),
                progress=progress,
            )
        typer.echo(
            f"imported {report.rated} rating(s) from {file} "
            f"({report.unchanged} unchanged, {report.fetched} track(s) fetched from Spotify)"
        )
        if report.not_bach:
            typer.echo(
                f"{len(report.not_bach)} of them are not Bach recordings by your rules: "
                + ", ".join(report.not_bach[:10])
            )
