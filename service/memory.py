"""This process's memory as Linux reports it: resident now, and the peak since a reset.

Each job run records the peak resident memory of its step (``peak_rss_mb`` in
its counts), so ``bachbot status`` and the benchmarks can say which step
costs what.  The peak is ``VmHWM`` from ``/proc/self/status``; writing ``5``
to ``/proc/self/clear_refs`` resets it to the current size (Linux 4.0+), so
each step's peak is its own.  Elsewhere these read None and record nothing.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
_children: list[float] = []
"""Peaks of worker processes (:mod:`service.ml_worker`) since the last reset."""


def _status_mb(field: str) -> float | None:
    try:
        with STATUS.open(encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def rss_mb() -> float | None:
    """Resident memory now, in MiB."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process image since start or the last reset, in MiB."""
    return _status_mb("VmHWM")


def note_child_peak(mb: float | None) -> None:
    """A worker process ran part of this step: its peak counts as the step's too."""
    if mb is not None:
        _children.append(mb)


def step_peak_mb() -> float | None:
    """The step's peak: this process's, or a worker's it waited for, whichever is larger."""
    return max(filter(None, [peak_rss_mb(), *_children]), default=None)


def reset_peak() -> None:
    """Start a new peak at the current size (no-op where the kernel does not offer it)."""
    _children.clear()
    with contextlib.suppress(OSError):
        CLEAR_REFS.write_text("5", encoding="ascii")
