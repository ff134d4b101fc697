"""The ``bachbot`` command line.

Settings are built once here and handed to every command through the Typer
context.  Each module in ``COMMAND_MODULES`` registers its own commands, so
the CLI grows one file per concern.  Errors bachbot raises on purpose end in
one clear line on stderr (exit 1); a bad setting exits 2; no tracebacks.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer
from pydantic import ValidationError

from models.errors import ModelError
from service.errors import BachbotError
from service.logs import configure_logging
from service.settings import Settings, format_settings_error

COMMAND_MODULES: tuple[str, ...] = (
    "service.cli.db",
    "service.cli.run",
    "service.cli.demo",
    "service.cli.publish",
    "service.cli.sync",
    "service.cli.features",
    "service.cli.auth",
    "service.cli.sim",
    "service.cli.model",
    "service.cli.bench",
)

app = typer.Typer(
    name="bachbot",
    help="Learns your taste in J. S. Bach recordings and keeps a Spotify playlist of "
    "predicted favourites.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Build the settings once for whichever command runs."""
    try:
        settings = Settings()
    except ValidationError as err:
        typer.echo(f"bachbot: {format_settings_error(err)}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    for note in settings.deprecations:
        logging.getLogger("bachbot").warning(note)
    ctx.obj = settings


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    if not isinstance(settings, Settings):  # pragma: no cover - the callback always runs
        raise RuntimeError("settings missing from the CLI context")
    return settings


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    _register_all()
    try:
        result = app(args=argv, standalone_mode=False)
    except (BachbotError, ModelError) as err:
        typer.echo(f"bachbot: {err}", err=True)
        return 1
    except typer.Exit as exit_:
        return int(exit_.exit_code or 0)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        # Usage errors: Typer >= 0.29 vendors click, so match the click
        # exception interface rather than importing a class that may move.
        show, code = getattr(err, "show", None), getattr(err, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            return code
        raise
    # With standalone_mode off, click returns the code of a ``typer.Exit``.
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
