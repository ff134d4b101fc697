"""Files only their owner may read: model artifacts and reports carry the listener's taste.

A model and its metadata hold the ratings' fingerprint, the scores and, in the
pipeline's fitted state, what the listener loves; a report lists tracks and
ratings.  They are written ``0600`` in folders made ``0700`` whatever the umask
and whatever the database back-end (the SQLite set-up used to be the only
path that made the data directory private).  An artifact is written to a
temporary name and renamed into place, so a crash mid-write never leaves a
half file under a model's name.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` created (with any missing parents) ``0700``; an existing one of ours tightened."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != PRIVATE_DIR:
        os.chmod(path, PRIVATE_DIR)
    return path


@contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` as ``0600``: into a temporary file beside it, renamed on success."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # a leftover partial file may have had another mode
        with os.fdopen(fd, "wb") as handle:
            yield handle
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def write_private_text(path: Path, text: str) -> None:
    with private_file(path) as handle:
        handle.write(text.encode("utf-8"))
