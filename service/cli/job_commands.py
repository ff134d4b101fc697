"""What every command that runs a job does the same way: wire, lock, run, report or fail.

``sync`` and ``publish`` run a Spotify job under the process lock, as the
daemon would; ``train`` and ``score`` run a local one; all of them take the
job's report when it succeeded, or stop with one line,
``bachbot: <job> failed: <why>`` (exit 1).  The rating commands open the
database the same way, needing Spotify only when the database is new.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import typer

from service.errors import JobFailed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from service.cli.spotify_access import SpotifyOnDemand
    from service.jobrunner import JobOutcome
    from service.settings import Settings

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


def result_or_fail(outcome: JobOutcome, expect: type[T]) -> T:
    """The job's report, or :class:`JobFailed` (exit 1) with the job's own reason."""
    if outcome.status != "ok" or not isinstance(outcome.result, expect):
        raise JobFailed(f"{outcome.job} {outcome.status}: {outcome.error}")
    return outcome.result


class SpotifyJob(Protocol[T_co]):
    """A job function of the daemon's Spotify steps (``sync_library``, ``publish_playlist``)."""

    def __call__(self, *, session: Session, spotify: Any, settings: Settings) -> T_co: ...


def run_spotify_job(
    settings: Settings, job: str, need: str, work: SpotifyJob[object], expect: type[T]
) -> T:
    """Run a Spotify job now, holding the process lock like the daemon.

    ``need`` says why Spotify is needed, for the one line shown when it is not set up.
    """
    from service.cli.spotify_access import require_spotify
    from service.lock import process_lock
    from service.wiring import wire

    require_spotify(settings, need=need)
    wiring = wire(settings)
    with process_lock(wiring.engine, what=f"bachbot {job}") as lock:
        wiring.before_spotify_write = lock.confirm
        outcome = wiring.run(
            job,
            lambda session: work(session=session, spotify=wiring.spotify, settings=settings),
            uses_spotify=True,
        )
    return result_or_fail(outcome, expect)


JobParts = tuple[SpotifyJob[object], type[T], Callable[[T, "Settings"], str]]
"""A Spotify command's job function, its report type and how the report reads."""


def spotify_job_command(
    app: typer.Typer, name: str, *, summary: str, need: str, parts: Callable[[], JobParts[T]]
) -> None:
    """Register ``bachbot <name>``: run that Spotify job now and print its report.

    ``parts`` imports the job only when the command runs, so ``--help`` stays light.
    """

    @app.command(name, help=summary)
    def command(ctx: typer.Context) -> None:
        from service.cli import settings_of

        work, report_type, render = parts()
        settings = settings_of(ctx)
        report = run_spotify_job(settings, name, need, work, report_type)
        typer.echo(render(report, settings))


def run_local_job(
    settings: Settings, *, job: str, work: Callable[[Session], object], expect: type[T]
) -> T:
    """Run a job that needs no Spotify (training, scoring) and return its report."""
    from service.wiring import wire

    return result_or_fail(wire(settings).run(job, work, uses_spotify=False), expect)


def in_ratings_transaction(
    settings: Settings, *, need: str, work: Callable[[Session, SpotifyOnDemand], T]
) -> T:
    """Run a rating command's work in one transaction, with Spotify only when needed.

    Credentials are asked for only when the database is new (it knows no track,
    so every track must come from Spotify); otherwise the gateway is built at
    the first track bachbot does not know (:class:`SpotifyOnDemand`).
    """
    from service.cli.spotify_access import SpotifyOnDemand, require_spotify
    from service.store.db import database_exists, transaction
    from service.wiring import wire

    if not database_exists(settings):
        require_spotify(settings, need=need)
    wiring = wire(settings)
    spotify = SpotifyOnDemand(lambda: wiring.spotify, settings=settings)
    with transaction(wiring.sessions) as session:
        return work(session, spotify)
