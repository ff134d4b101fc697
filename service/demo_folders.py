"""The demo's folders: a new ``run-N`` for each run, and nothing deleted that the demo did not make.

Light on purpose (no model or Spotify code), so ``bachbot demo`` refuses an
unusable folder in one line before it loads anything heavy.
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

from service.datadir import check_data_dir
from service.errors import DataDirUnusable

log = logging.getLogger(__name__)

MARKER = ".bachbot-demo"
"""Marks a folder the demo created; nothing without it is ever deleted."""


def _is_demo_run(path: Path) -> bool:
    return (
        path.is_dir()
        and re.fullmatch(r"run-\d+", path.name) is not None
        and (path / MARKER).exists()
    )


DEMO_FILES = ("bachbot.db", "bachbot.db-wal", "bachbot.db-shm", "report.html", MARKER)


def _remove_run(run: Path) -> None:
    """Delete what a demo run wrote, and the folder if nothing else is left in it."""
    models = run / "models"
    if models.is_dir():
        for path in models.iterdir():
            if path.suffix in {".joblib", ".json"} and path.is_file():
                path.unlink()
        with contextlib.suppress(OSError):
            models.rmdir()
    for name in DEMO_FILES:
        (run / name).unlink(missing_ok=True)
    try:
        run.rmdir()
    except OSError:
        log.warning("kept %s: it holds files the demo did not create", run)


def check_demo_root(root: Path, *, given: bool) -> None:
    """Refuse (untouched, one line, exit 2) a demo folder that is a file, that this user
    cannot write, or that holds anything the demo did not create."""
    check_data_dir(root, source="--data-dir" if given else "BACHBOT_DATA_DIR")
    try:
        foreign = root.exists() and any(root.iterdir()) and not (root / MARKER).exists()
    except OSError as err:
        raise DataDirUnusable(
            f"cannot look into {root} for the demo: {err.strerror or err}; give a folder you "
            "can read and write with --data-dir"
        ) from err
    if foreign:
        raise DataDirUnusable(
            f"{root} already holds files that `bachbot demo` did not create; nothing was "
            "changed: give a new or empty folder with --data-dir"
        )


def new_run_dir(root: Path, *, fresh: bool, given: bool = True) -> Path:
    """A new, empty ``run-N`` folder under the demo folder ``root`` (made if needed).

    ``fresh`` first removes earlier demo runs, and only the files they wrote.
    """
    check_demo_root(root, given=given)
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        (root / MARKER).write_text("created by `bachbot demo`; run-N folders are demo runs\n")
        if fresh:
            for run in sorted(p for p in root.iterdir() if _is_demo_run(p)):
                _remove_run(run)
        taken = [p for p in root.iterdir() if re.fullmatch(r"run-\d+", p.name)]
        number = 1 + max((int(p.name.removeprefix("run-")) for p in taken), default=0)
        target = root / f"run-{number}"
        target.mkdir(mode=0o700)
        (target / MARKER).write_text("a `bachbot demo` run\n")
    except OSError as err:
        raise DataDirUnusable(
            f"cannot use {root} for the demo: {err.strerror or err}; give a folder you can "
            "write with --data-dir"
        ) from err
    return target
