"""Times as a person reads them: "12 minutes ago" first, the exact UTC time when asked.

The daemon often runs in a container whose clock is UTC while its listener
is elsewhere; a relative time is right in every time zone, and the absolute
one always says that it is UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"))


def ago(then: datetime, now: datetime) -> str:
    """E.g. "just now", "12 minutes ago", "3 days ago", "in 2 hours"."""
    seconds = round((now - then).total_seconds())
    if abs(seconds) < 60:
        return "just now"
    for size, unit in _UNITS:
        count = abs(seconds) // size
        if count >= 1:
            amount = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"{amount} ago" if seconds > 0 else f"in {amount}"
    raise AssertionError("unreachable: 60 s or more is at least a minute")


def stamp(when: datetime) -> str:
    """E.g. "2026-11-28 21:26 UTC"."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(when: datetime | None) -> str | None:
    """For machines (``bachbot status --json``, ``<time datetime=...>``)."""
    return None if when is None else when.astimezone(UTC).isoformat(timespec="seconds")
