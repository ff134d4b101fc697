"""One progress line for long commands, fed through the ``progress`` callbacks jobs take.

Jobs report progress the way ``jobs.train.train_and_register(progress=...)``
already does: a plain ``Callable[[str], None]``, one short message at a time.
They never know where it goes; the command wrapping them decides, with this
helper::

    from service.cli.progress import progress_line

    with progress_line("bachbot train", quiet=as_json) as progress:
        report = train_and_register(..., progress=progress)       # lines worth keeping
        evaluate_stored(..., progress=progress.detail)            # liveness only

``progress(message)`` is a line worth keeping (a finished step, a figure);
``progress.detail(message)`` only says what is being worked on right now (fold
3 of 10, track 40 of 200).  Both are ``Callable[[str], None]``, so either can
be handed to a job.  How they show depends on where the output goes
(``stream``, stderr unless the lines are the command's result):

* **a terminal**: a Rich status line at the bottom (spinner, ``title`` and the
  latest detail, elapsed time), redrawn in place and gone when the block
  ends; ``progress(message)`` prints the message above it.  Log records and
  ``typer.echo`` output written meanwhile also go above it, never through it.
* **anything else** (a pipe, a file, CI): ``progress(message)`` prints one
  plain line; ``progress.detail(message)`` prints nothing unless ``verbose``,
  so logs stay short.
* **quiet** (``--json``): nothing at all, so stdout stays one JSON object.

Rich is imported only for a terminal: the plain and quiet modes cost nothing.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress

Progress = Callable[[str], None]
"""The callback type jobs take: ``progress(message)``."""


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal that can redraw a line."""
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


class ProgressLine:
    """The status line of one command; see the module docstring for what each call shows."""

    def __init__(
        self,
        title: str,
        *,
        stream: TextIO,
        live: bool,
        quiet: bool = False,
        verbose: bool = False,
    ) -> None:
        self.title = title
        self.stream = stream
        self.live = live and not quiet
        self.quiet = quiet
        self.verbose = verbose
        self._rich: RichProgress | None = None
        self._task: Any = None
        self._swapped: list[tuple[logging.StreamHandler[Any], Any]] = []

    # --- the two callbacks ---------------------------------------------------------------
    def __call__(self, message: str) -> None:
        """A line worth keeping."""
        if self.quiet:
            return
        if self._rich is not None:
            self._rich.console.print(message, markup=False, highlight=False)
            self._rich.update(self._task, description=self.title)
            return
        print(message, file=self.stream, flush=True)

    def detail(self, message: str) -> None:
        """What is being worked on right now (shown on a terminal; in logs only if verbose)."""
        if self.quiet:
            return
        if self._rich is not None:
            self._rich.update(self._task, description=f"{self.title}: {message}")
        elif self.verbose:
            print(message, file=self.stream, flush=True)

    # --- lifetime --------------------------------------------------------------------------
    def start(self) -> ProgressLine:
        if not self.live or self._rich is not None:
            return self
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        console = Console(file=self.stream, highlight=False)
        self._rich = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._rich.add_task(self.title, total=None)
        self._rich.start()
        self._route_logs_above()
        return self

    def close(self) -> None:
        for handler, stream in self._swapped:
            handler.stream = stream
        self._swapped.clear()
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    def _route_logs_above(self) -> None:
        """Point log handlers that write to this terminal at Rich's proxy (``sys.stderr`` /
        ``sys.stdout`` while the line is live), so a log record never cuts the line."""
        proxies = {id(sys.__stderr__): sys.stderr, id(sys.__stdout__): sys.stdout}
        for handler in logging.getLogger().handlers:
            if type(handler) is not logging.StreamHandler:  # files keep their own stream
                continue
            proxy = proxies.get(id(handler.stream))
            if proxy is not None and proxy is not handler.stream:
                self._swapped.append((handler, handler.stream))
                handler.stream = proxy

    def __enter__(self) -> ProgressLine:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def progress_line(
    title: str,
    *,
    quiet: bool = False,
    verbose: bool = False,
    stream: TextIO | None = None,
) -> ProgressLine:
    """The progress line for a command: live on a terminal, plain lines otherwise,
    nothing when ``quiet``.  Use it as a context manager (see the module docstring).

    ``stream`` defaults to stderr; pass ``sys.stdout`` when the lines are the
    command's result (the demo's per-cycle figures).
    """
    out = stream if stream is not None else sys.stderr
    return ProgressLine(title, stream=out, live=is_terminal(out), quiet=quiet, verbose=verbose)
