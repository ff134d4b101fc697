"""The ``bachbot`` command line.

Each module in ``COMMAND_MODULES`` registers its own commands, so the CLI
grows one file per concern.  Starting is cheap on purpose: this package and
every command module import only Typer when they load; the settings are
built on first use (:func:`settings_of`), and each command imports what it
needs inside its function.  So ``bachbot --help``, ``--version``, ``status``
and ``rate`` never load scikit-learn, scipy or matplotlib (a test checks).

Exit codes, the same for every command (the README's Troubleshooting section
lists them for users):

* 0: done;
* 1: the command ran and could not do its job (a job failed, the database is
  unreachable, Spotify refused, there is nothing to train on yet, an input
  file has bad lines);
* 2: bad usage or settings, nothing was done: an unknown command or option, a
  bad argument, an invalid ``BACHBOT_*`` value, a database URL the server
  refuses, an unusable data directory (:class:`service.errors.UsageError`);
* 130: interrupted (Ctrl-C).

Every error ends as one line on stderr, ``bachbot: what happened; what to do``,
never a traceback; the exit code comes from the error class
(``BachbotError.exit_code``).
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from models.errors import ModelError
from service.errors import BachbotError, SettingsInvalid

if TYPE_CHECKING:
    from service.settings import Settings

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
    "service.cli.replay",
    "service.cli.bench",
    "service.cli.explain",
    "service.cli.freeze",
)

PROG = "bachbot"
HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}


class CommandGroup(TyperGroup):
    """Lists each command with its whole first sentence, wrapped, where plain help would
    cut it at the terminal width ("Counts, last job runs, model, playlists bachbot...")."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=500)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    name=PROG,
    cls=CommandGroup,
    help="Learns your taste in J. S. Bach recordings and keeps a Spotify playlist of "
    "predicted favourites.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: no `<bool>` beside every flag (typer 0.29's rich help prints one),
    # and no Rich import for `bachbot --help`.
    rich_markup_mode=None,
    context_settings=HELP_OPTIONS,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("bachbot")
        except PackageNotFoundError:  # pragma: no cover - run from a bare source tree
            number = "unknown (not installed)"
        typer.echo(f"{PROG} {number}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print bachbot's version and exit.",
    ),
) -> None:
    """Learns your taste in J. S. Bach recordings and keeps a Spotify playlist of
    predicted favourites."""


def settings_of(ctx: typer.Context) -> Settings:
    """The settings, built once on first use and shared by the whole command line.

    Built here rather than at start so ``--help`` and ``--version`` work (and
    stay fast) even with a broken ``.env``; a bad value is
    :class:`SettingsInvalid`, one line, exit code 2.  Logging is set up at the
    same moment, at the configured level.
    """
    root = ctx.find_root()
    from service.settings import Settings

    if isinstance(root.obj, Settings):
        return root.obj
    from pydantic import ValidationError

    from service.logs import configure_logging
    from service.settings import format_settings_error

    try:
        settings = Settings()
    except ValidationError as err:
        raise SettingsInvalid(format_settings_error(err)) from None
    configure_logging(settings.log_level)
    for note in settings.deprecations:
        logging.getLogger("bachbot").warning(note)
    root.obj = settings
    return settings


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


def _fail(message: str) -> None:
    typer.echo(f"{PROG}: {message}", err=True)


def _usage_line(err: Exception) -> str:
    """A command-line parser error as one line: the problem and where the help is."""
    format_message = getattr(err, "format_message", None)
    text = str(format_message() if callable(format_message) else err).strip().rstrip(".")
    text = text[:1].lower() + text[1:]
    ctx = getattr(err, "ctx", None)
    command = getattr(ctx, "command_path", "") or PROG
    return f"{text}; see `{command} --help`"


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code (see the module docstring)."""
    _register_all()
    try:
        result = app(args=argv, prog_name=PROG, standalone_mode=False)
    except BachbotError as err:
        _fail(str(err))
        return err.exit_code
    except ModelError as err:  # the model's own branch: training or a data set failed
        _fail(str(err))
        return 1
    except typer.Exit as exit_:
        return int(exit_.exit_code or 0)
    except (typer.Abort, KeyboardInterrupt):
        _fail("interrupted")
        return 130
    except OSError as err:
        # A file-system problem nobody foresaw still ends in one line, not a traceback.
        where = f" ({err.filename})" if err.filename else ""
        _fail(f"{err.strerror or err}{where}; check that path and its permissions")
        return 1
    except Exception as err:
        # Parser errors: Typer >= 0.29 vendors click, so match the click
        # exception interface rather than importing a class that may move.
        code = getattr(err, "exit_code", None)
        if not isinstance(code, int) or not hasattr(err, "format_message"):
            raise
        message = str(err.format_message()).strip()
        if message.startswith("Usage:"):  # no command given: the help is the answer
            typer.echo(message)
        else:
            _fail(_usage_line(err))
        return code
    # With standalone_mode off, click returns the code of a ``typer.Exit``.
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
