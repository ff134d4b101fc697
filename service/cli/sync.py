"""``bachbot sync``, ``bachbot rate`` and ``bachbot import-ratings``.

``sync`` runs one cycle exactly as the daemon would (through the job runner,
holding the process lock, so it never doubles the daemon's Spotify calls);
the rating commands write in one transaction each, so an import that fails
leaves nothing behind.  Every input is checked before the database is
opened, and Spotify is asked (and its credentials needed) only for tracks
bachbot does not know yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from service.cli import settings_of
from service.cli.job_commands import JobParts, spotify_job_command

if TYPE_CHECKING:
    from jobs.sync import SyncReport


def _unreadable(err: OSError | UnicodeDecodeError) -> str:
    """Why a ratings file could not be read, and what to give instead."""
    if isinstance(err, UnicodeDecodeError):
        return "it is not UTF-8 text; save it as 'CSV UTF-8' from the spreadsheet"
    if isinstance(err, FileNotFoundError):
        return "there is no such file; check the path"
    if isinstance(err, IsADirectoryError):
        return "it is a folder; give the path of a CSV file"
    return f"{err.strerror or err}; check the file and its permissions"


def _sync_parts() -> JobParts[SyncReport]:
    from jobs.sync import SyncReport, render_sync_report, sync_library

    return sync_library, SyncReport, lambda report, _settings: render_sync_report(report)


def register(app: typer.Typer) -> None:
    spotify_job_command(
        app,
        "sync",
        summary="Run one sync cycle now: playlists, Liked Songs, listening, the catalogue walk.",
        need="bachbot sync reads your library from Spotify",
        parts=_sync_parts,
    )

    @app.command("rate")
    def rate(
        ctx: typer.Context,
        track: str = typer.Argument(
            ..., metavar="TRACK", help="Track id, spotify:track:URI or open.spotify.com link."
        ),
        rating: str = typer.Argument(..., metavar="RATING", help="1 (dislike) to 10 (love)."),
    ) -> None:
        """Rate one track; an explicit rating outranks likes and removals."""
        from jobs.rating_input import parse_rating, parse_track_ref
        from jobs.ratings import rate_track
        from service.cli.job_commands import in_ratings_transaction
        from service.errors import UsageError

        settings = settings_of(ctx)
        try:  # a typo is reported before anything is opened or fetched
            track_id = parse_track_ref(track)
            parse_rating(rating)
        except ValueError as err:
            raise UsageError(f"cannot rate: {err}") from err
        result = in_ratings_transaction(
            settings,
            need=f"track {track_id} is new to bachbot",
            work=lambda session, spotify: rate_track(
                session=session, spotify=spotify, settings=settings, ref=track, value=rating
            ),
        )
        note = "" if result.is_bach else " (not a Bach recording by your rules; kept anyway)"
        fetched = " (fetched from Spotify)" if result.fetched else ""
        typer.echo(f'rated "{result.name}" {result.value}/10{fetched}{note}')

    @app.command("import-ratings")
    def import_ratings_command(
        ctx: typer.Context,
        file: Path = typer.Argument(
            ...,
            metavar="FILE.csv",
            help="Track id/URI/link and rating per line, separated by a comma, semicolon or "
            "tab (header optional).",
        ),
    ) -> None:
        """Import explicit ratings from a CSV file, all or nothing."""
        from jobs.rating_input import parse_ratings_csv
        from jobs.ratings import import_ratings
        from service.cli.job_commands import in_ratings_transaction
        from service.cli.progress import progress_line
        from service.errors import ConfigError

        settings = settings_of(ctx)
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot import {file}: {_unreadable(err)}") from err
        lines = parse_ratings_csv(text, source=str(file))
        with progress_line("bachbot import-ratings") as progress:

            def fetched(done: int, total: int, track_id: str) -> None:
                if done == 1:
                    progress(f"fetching {total} track(s) new to bachbot from Spotify ...")
                progress.detail(f"fetched {done}/{total} ({track_id})")

            report = in_ratings_transaction(
                settings,
                need=f"the {len(lines)} track(s) in {file} are new to bachbot",
                work=lambda session, spotify: import_ratings(
                    session=session, spotify=spotify, settings=settings, lines=lines,
                    source=str(file), progress=fetched,
                ),
            )  # fmt: skip
        typer.echo(
            f"imported {report.rated} rating(s) from {file} "
            f"({report.unchanged} unchanged, {report.fetched} track(s) fetched from Spotify)"
        )
        if report.not_bach:
            typer.echo(
                f"{len(report.not_bach)} of them are not Bach recordings by your rules: "
                + ", ".join(report.not_bach[:10])
            )
