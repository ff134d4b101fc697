"""Finding every process a run of bachbot left behind, by a mark in its environment.

A child inherits its parent's environment, and so do loky's workers and its
resource tracker, even after they are re-parented to init by their parent's
death; a parent pid cannot find them then, a mark can.  ``KILL_TRIAL_MARK``
has no ``BACHBOT_`` prefix, so bachbot's settings never see it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

MARK_VARIABLE = "KILL_TRIAL_MARK"


def new_mark(label: str = "run") -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}"


def marked_processes(mark: str) -> list[int]:
    """Pids of live processes (of this user) whose environment holds ``KILL_TRIAL_MARK=mark``."""
    needle = f"{MARK_VARIABLE}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile, or another user's
        if needle in environ.split(b"\0") and ") Z " not in state:  # zombies are dead already
            found.append(int(entry.name))
    return sorted(found)


def wait_until_gone(mark: str, *, within_s: float) -> list[int]:
    """Poll until no process carries ``mark``; the pids still alive after ``within_s``.

    A hang guard, not a measurement: the kernel ends the workers at once, and
    the resource tracker follows when its pipe closes.
    """
    deadline = time.monotonic() + within_s
    while True:
        alive = marked_processes(mark)
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def kill_all(mark: str) -> None:
    """Clean up after a failed check, so one bad trial does not poison the next."""
    for pid in marked_processes(mark):
        with contextlib.suppress(OSError):  # gone meanwhile
            os.kill(pid, signal.SIGKILL)
