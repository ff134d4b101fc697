"""The progress line: live on a terminal, plain lines in a log, nothing with --json."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from service.cli.progress import ProgressLine, progress_line


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _feed(line: ProgressLine) -> None:
    with line as progress:
        progress("cycle 1: 12 ratings")
        progress.detail("fold 3 of 10")
        progress("cycle 2: 20 ratings")


def test_plain_output_keeps_the_lines_and_drops_the_details() -> None:
    out = io.StringIO()
    _feed(progress_line("bachbot demo", stream=out))
    assert out.getvalue() == "cycle 1: 12 ratings\ncycle 2: 20 ratings\n"


def test_verbose_plain_output_shows_the_details_too() -> None:
    out = io.StringIO()
    _feed(progress_line("bachbot bench", stream=out, verbose=True))
    assert out.getvalue().splitlines() == [
        "cycle 1: 12 ratings",
        "fold 3 of 10",
        "cycle 2: 20 ratings",
    ]


def test_quiet_prints_nothing_even_on_a_terminal() -> None:
    out = FakeTerminal()
    _feed(progress_line("bachbot demo", stream=out, quiet=True))
    assert out.getvalue() == ""


def test_a_terminal_gets_a_status_line_and_the_kept_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    out = FakeTerminal()
    line = progress_line("bachbot train", stream=out)
    assert line.live
    _feed(line)
    shown = out.getvalue()
    assert "cycle 1: 12 ratings" in shown and "cycle 2: 20 ratings" in shown
    assert "\x1b[" in shown, "no terminal control: the status line was not drawn"


def test_a_dumb_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    out = FakeTerminal()
    _feed(progress_line("bachbot demo", stream=out))
    assert out.getvalue() == "cycle 1: 12 ratings\ncycle 2: 20 ratings\n"


def test_plain_progress_does_not_import_rich() -> None:
    script = (
        "import sys, io\n"
        "from service.cli.progress import progress_line\n"
        "with progress_line('x', stream=io.StringIO()) as p:\n"
        "    p('a'); p.detail('b')\n"
        "print(any(m == 'rich' or m.startswith('rich.') for m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
