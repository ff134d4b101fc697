"""``bachbot features --show TRACK``: what each provider says about one track."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import typer

from service.cli import settings_of

if TYPE_CHECKING:
    from service.store.tables import Track


def render_features(
    *, track: Track, rows: Mapping[str, tuple[int, Mapping[str, Any] | None, str]]
) -> str:
    """Text for one track: the title as parsed, then each provider's values (zeros left out).

    ``rows`` maps provider -> (schema version, values or None, fetched-at text).
    """
    from models.features.catalogue import lookup
    from models.features.keys import key_label
    from models.features.registry import provider_classes
    from models.features.titles import parse_title

    info = parse_title(track.name)
    bwv = track.bwv or info.bwv
    work = lookup(bwv) if bwv else None
    lines = [f"{track.id}  {track.name}"]
    facts = [f"BWV {bwv}" if bwv else "no BWV number"]
    if work is not None:
        facts.append(f"{work.group}: {work.title}")
    if info.key is not None:
        facts.append(key_label(info.key, info.mode))
    if info.movement_form:
        facts.append(f"form {info.movement_form}")
    if info.movement_number is not None:
        facts.append(f"movement {info.movement_number}")
    if info.instruments:
        facts.append("instruments " + ", ".join(info.instruments))
    lines.append("title: " + " · ".join(facts))
    chain = [kind.name for kind in provider_classes()]
    for provider in [*chain, *sorted(set(rows) - set(chain))]:  # then any no longer registered
        if provider not in rows:
            lines.append(f"[{provider}] not fetched yet")
            continue
        version, values, fetched = rows[provider]
        if values is None:
            lines.append(f"[{provider}] v{version}, {fetched}: nothing for this track")
            continue
        lines.append(f"[{provider}] v{version}, {fetched}:")
        for name, value in values.items():
            if value is None:
                lines.append(f"  {name:<28} -")
            elif value != 0 or "." not in name:
                number = f"{value:.4g}" if isinstance(value, float) else str(value)
                lines.append(f"  {name:<28} {number}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    @app.command("features")
    def features(
        ctx: typer.Context,
        show: str = typer.Option(
            ..., "--show", metavar="TRACK", help="Track id, spotify:track: URI or open.spotify URL."
        ),
    ) -> None:
        """Print a track's stored features, provider by provider."""
        from sqlalchemy import select

        from jobs.rating_input import parse_track_ref
        from service.errors import UsageError
        from service.store.db import database_exists, open_database, session_factory
        from service.store.tables import Feature, Track

        try:  # the same reading of a track reference as `bachbot rate` and rating imports
            track_id = parse_track_ref(show)
        except ValueError as err:
            raise UsageError(f"cannot show features: {err}") from err
        settings = settings_of(ctx)
        unknown = (
            f"bachbot: no track {track_id!r} in the database; run `bachbot sync` first "
            "or check the id"
        )
        if not database_exists(settings):  # nothing to show, and nothing to create
            typer.echo(unknown, err=True)
            raise typer.Exit(1)
        engine = open_database(settings)
        with session_factory(engine)() as session:
            track = session.get(Track, track_id)
            if track is None:
                typer.echo(unknown, err=True)
                raise typer.Exit(1)
            rows = {
                f.provider: (f.schema_version, f.values, f.fetched_at.isoformat(timespec="seconds"))
                for f in session.scalars(select(Feature).where(Feature.track_id == track_id))
            }
            typer.echo(render_features(track=track, rows=rows))
