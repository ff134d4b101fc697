"""The nested cross-validation's worker processes die with the process that started them.

joblib's loky backend keeps its workers (about 145 MB each) alive between
calls and lets an idle one go only after 300 s; its resource tracker lives as
long as anyone holds its pipe.  When the daemon was killed with ``kill -9``
(an OOM killer, ``docker kill``, a power button), the workers were re-parented
to init and lived on for minutes, holding memory and the tracker with them -
in 36 of 62 fault trials.

Each worker now asks the kernel to kill it when its parent dies
(``prctl(PR_SET_PDEATHSIG, SIGKILL)`` on Linux, in the worker's initializer,
before it takes any work), and exits at once if the parent is already gone.
With the workers gone, the tracker sees its pipe close and exits too.  Where
``prctl`` does not exist (macOS), a watchdog thread in the worker polls its
parent's pid instead.

The kernel's parent-death signal follows the *thread* that forked the
worker; loky forks from the thread that submits the work, which in bachbot
is a thread that lives as long as its process (the scheduler's worker
thread, or the main thread of a command), so the signal means what it says.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from typing import Any

from joblib.parallel import LokyBackend

PR_SET_PDEATHSIG = 1
WATCH_EVERY_S = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this process when ``parent_pid`` ends (see the module docstring)."""
    if not _parent_death_signal():
        threading.Thread(
            target=_watch_parent, args=(parent_pid,), name="watch-parent", daemon=True
        ).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def worker_backend() -> Any:
    """The loky backend whose workers run :func:`die_with_parent` first."""
    return LokyBackend(initializer=die_with_parent, initargs=(os.getpid(),))


def _parent_death_signal() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    stop = threading.Event()
    while not stop.wait(WATCH_EVERY_S):
        if os.getppid() != parent_pid:
            os._exit(1)
