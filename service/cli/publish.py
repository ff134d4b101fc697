"""``bachbot publish``: one publish pass now (the daemon does this every cycle)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from service.cli.job_commands import JobParts, spotify_job_command

if TYPE_CHECKING:
    from jobs.publish import PublishReport
    from service.settings import Settings


def publication_text(report: PublishReport, settings: Settings) -> str:
    """What one publish pass did, in one line."""
    verb = "rewrote" if report.rewritten else "left unchanged"
    return (
        f'{verb} "{settings.playlist_name}" ({report.published} tracks, model '
        f"{report.model_version or 'none yet'})"
        + (f"; {len(report.removals)} removed by you became low ratings" if report.removals else "")
        + ("; it had been deleted and was created again" if report.recreated else "")
        + _to_rate_text(report, settings)
    )


def _to_rate_text(report: PublishReport, settings: Settings) -> str:
    if report.to_rate_playlist_id is None:
        return ""
    verb = "rewrote" if report.to_rate_rewritten else "left unchanged"
    removed = report.to_rate_removals
    return f'; {verb} "{settings.to_rate_name}" ({report.to_rate_published} tracks)' + (
        f", {len(removed)} removed by you became low ratings" if removed else ""
    )


def _parts() -> JobParts[PublishReport]:
    from jobs.publish import PublishReport, publish_playlist

    return publish_playlist, PublishReport, publication_text


def register(app: typer.Typer) -> None:
    spotify_job_command(
        app,
        "publish",
        summary='Update "Predicted favourites" and "Bach to rate" from the current scores '
        "(run `bachbot score` first).",
        need='bachbot publish writes "Predicted favourites" on Spotify',
        parts=_parts,
    )
