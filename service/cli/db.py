"""``bachbot db upgrade`` and ``bachbot status``.

``status`` is the first thing a new user runs, so it stays light (no model
code is imported) and gives up within seconds when PostgreSQL is down: the
one-shot wait of :mod:`service.store.connect` ends in "database unreachable".
"""

from __future__ import annotations

import typer

from service.cli import HELP_OPTIONS, CommandGroup, settings_of


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(
        help="Database maintenance.",
        cls=CommandGroup,
        no_args_is_help=True,
        rich_markup_mode=None,
        context_settings=HELP_OPTIONS,
    )

    @db_app.command("upgrade")
    def db_upgrade(ctx: typer.Context) -> None:
        """Apply the database migrations (also done automatically at start)."""
        from service.store.db import hide_password, open_database, upgrade

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
        import json

        from service.status import collect_status
        from service.status_text import render_status_text, status_json
        from service.store.db import open_database

        settings = settings_of(ctx)
        engine = open_database(settings)
        snapshot = collect_status(engine=engine, settings=settings)
        if as_json:
            typer.echo(json.dumps(status_json(snapshot), indent=2, default=str))
        else:
            typer.echo(render_status_text(snapshot))
