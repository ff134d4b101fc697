"""``bachbot db upgrade`` and ``bachbot status``."""

from __future__ import annotations

import json

import typer

from service.cli import settings_of
from service.status import collect_status
from service.status_text import render_status_text, status_json
from service.store.db import hide_password, open_database, upgrade


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)

    @db_app.command("upgrade")
    def db_upgrade(ctx: typer.Context) -> None:
        """Apply the database migrations (also done automatically at start)."""
        settings = settings_of(ctx)
        engine = open_database(settings, migrate=False)
        upgrade(engine)
        typer.echo(f"database {hide_password(settings.resolved_database_url)} is up to date")

    app.add_typer(db_app, name="db")

    @app.command("status")
    def status(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="One JSON object, for scripts."),
    ) -> None:
        """The playlist, the Spotify login, the model and the latest runs, in sentences."""
        settings = settings_of(ctx)
        engine = open_database(settings)
        snapshot = collect_status(engine=engine, settings=settings)
        if as_json:
            typer.echo(json.dumps(status_json(snapshot), indent=2, default=str))
        else:
            typer.echo(render_status_text(snapshot))
