"""The data directory: checked before anything is written into it, created private.

Every command that stores something (the SQLite database, models, reports,
the demo's world) goes through :func:`prepare_data_dir`; a command that must
know the place is usable *before* it starts work (the demo empties its
folder first) calls :func:`check_data_dir`, which creates nothing.  Both
raise :class:`~service.errors.DataDirUnusable` with one line that names the
folder, the setting or option it came from, the cause and the fix, instead
of the ``FileExistsError`` / ``PermissionError`` tracebacks a fresh clone
used to meet.

Directories bachbot creates are ``0700``; an existing one is tightened to
``0700`` only when it belongs to the user running bachbot (changing another
user's folder fails, and is not ours to decide).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from service.errors import DataDirUnusable

PRIVATE_DIR = 0o700
_USABLE = os.R_OK | os.W_OK | os.X_OK


def _owner(info: os.stat_result) -> str:
    try:
        import pwd

        return pwd.getpwuid(info.st_uid).pw_name
    except (ImportError, KeyError):
        return f"uid {info.st_uid}"


def _me() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}"


def _nearest_existing(path: Path) -> Path:
    for parent in path.parents:
        if os.path.lexists(parent):
            return parent
    return Path(path.anchor or ".")


def check_data_dir(path: Path, *, source: str = "BACHBOT_DATA_DIR") -> None:
    """Raise :class:`DataDirUnusable` unless ``path`` is, or can be created as, a
    directory this user can read and write.  Creates and changes nothing.

    ``source`` names where the path came from (``BACHBOT_DATA_DIR``,
    ``--data-dir``, ``BACHBOT_DATABASE_URL``) so the message says what to fix.
    """
    where = f"{path} ({source})"
    elsewhere = f"point {source} at a directory of your own"
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise DataDirUnusable(
                f"data directory {where} is a broken symbolic link to {os.readlink(path)}; "
                f"create the folder it points to, or {elsewhere}"
            ) from None
        _check_creatable(path, where=where, elsewhere=elsewhere)
        return
    except NotADirectoryError:
        raise DataDirUnusable(
            f"cannot create the data directory {where}: {_nearest_existing(path)} is a file, "
            f"not a directory; move that file away or {elsewhere}"
        ) from None
    except PermissionError:
        raise DataDirUnusable(
            f"cannot reach the data directory {where}: this user ({_me()}) cannot open a "
            f"folder on the way there; {elsewhere}"
        ) from None
    if not stat.S_ISDIR(info.st_mode):
        raise DataDirUnusable(
            f"data directory {where} is a file, not a directory; move the file away or "
            f"point {source} at a directory (it is created if missing)"
        )
    if not os.access(path, _USABLE):
        raise DataDirUnusable(
            f"data directory {where} belongs to {_owner(info)} (mode "
            f"{stat.S_IMODE(info.st_mode):03o}) and this user ({_me()}) cannot read and write "
            f"it; run bachbot as its owner, chown the folder to {_me()}, or {elsewhere}"
        )


def _check_creatable(path: Path, *, where: str, elsewhere: str) -> None:
    parent = _nearest_existing(path)
    if parent.is_symlink() and not parent.exists():
        raise DataDirUnusable(
            f"cannot create the data directory {where}: {parent} is a broken symbolic link "
            f"to {os.readlink(parent)}; create the folder it points to, or {elsewhere}"
        )
    if not parent.is_dir():
        raise DataDirUnusable(
            f"cannot create the data directory {where}: {parent} is a file, not a directory; "
            f"move that file away or {elsewhere}"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataDirUnusable(
            f"cannot create the data directory {where}: this user ({_me()}) cannot create "
            f"folders in {parent}, which belongs to {_owner(parent.stat())}; create the folder "
            f"as its owner and chown it to {_me()}, or {elsewhere}"
        )


def prepare_data_dir(path: Path, *, source: str = "BACHBOT_DATA_DIR") -> Path:
    """``path`` checked, created if missing (``0700``, parents too) and returned.

    The one function every writer of the data directory calls; see the
    module docstring for what it refuses and why.
    """
    check_data_dir(path, source=source)
    try:
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        info = path.stat()
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != PRIVATE_DIR:
            os.chmod(path, PRIVATE_DIR)
    except OSError as err:  # a race, a read-only file system, a full disk
        raise DataDirUnusable(
            f"cannot use the data directory {path} ({source}): {err.strerror or err}; "
            f"point {source} at a directory you can write"
        ) from err
    return path
