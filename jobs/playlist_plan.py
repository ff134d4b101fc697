"""The pure decisions behind publishing "Predicted favourites" (table-tested).

The publish job (``jobs/publish.py``) is the thin I/O around these: it reads
predictions, ratings and the playlist, asks here what to do, and writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PLAYLIST_MARKER = "Built by bachbot"
"""Start of the playlist description; lets a restart adopt a playlist it created
but had not yet recorded (a crash between create and commit), instead of
creating a second one."""


@dataclass(frozen=True)
class Candidate:
    track_id: str
    score: float
    uncertainty: float | None = None
    work: str | None = None
    """The work the recording belongs to (e.g. BWV number without movement)."""


def work_key(bwv: str | None) -> str | None:
    """The catalogue work of a BWV designation: ``1007/1`` and ``1007:3`` -> ``1007``."""
    if not bwv:
        return None
    match = re.match(r"\s*(Anh\.?\s*)?(\d+)([a-z]?)", bwv, flags=re.IGNORECASE)
    if match is None:
        return bwv.strip() or None
    prefix = "Anh. " if match.group(1) else ""
    return f"{prefix}{match.group(2)}{match.group(3).lower()}"


def plan_playlist(
    candidates: Iterable[Candidate],
    *,
    excluded: set[str],
    size: int,
    min_score: float,
    max_per_work: int,
) -> list[str]:
    """The ordered track ids to publish.

    The top ``size`` tracks by score above ``min_score``, leaving out tracks the
    user has rated or liked (``excluded``) and keeping at most ``max_per_work``
    recordings of the same work so one cantata cannot fill the list.  Ties are
    broken by lower uncertainty, then track id, so the order is stable and an
    unchanged model never causes a rewrite.
    """
    ordered = sorted(
        (c for c in candidates if c.track_id not in excluded and c.score >= min_score),
        key=lambda c: (
            -c.score,
            c.uncertainty if c.uncertainty is not None else float("inf"),
            c.track_id,
        ),
    )
    chosen: list[str] = []
    seen: set[str] = set()
    per_work: dict[str, int] = {}
    for candidate in ordered:
        if len(chosen) >= size:
            break
        if candidate.track_id in seen:
            continue
        if candidate.work is not None:
            if per_work.get(candidate.work, 0) >= max_per_work:
                continue
            per_work[candidate.work] = per_work.get(candidate.work, 0) + 1
        seen.add(candidate.track_id)
        chosen.append(candidate.track_id)
    return chosen


def removed_by_user(
    *, published: Sequence[str], current: Sequence[str], liked: set[str]
) -> list[str]:
    """Tracks bachbot published that the user has since taken out of the playlist.

    A track the user liked and then removed is not a dislike: bachbot itself
    drops liked tracks from the list, and the like is the stronger signal.
    """
    present = set(current)
    return [t for t in dict.fromkeys(published) if t not in present and t not in liked]


def needs_rewrite(*, planned: Sequence[str], current: Sequence[str]) -> bool:
    """Write only when the ordered list differs (an unchanged list costs no call)."""
    return list(planned) != list(current)


def describe(*, built_at: str, model_version: str | None, count: int) -> str:
    model = model_version or "no model yet"
    return (
        f"{PLAYLIST_MARKER} on {built_at} with model {model}: {count} new J. S. Bach "
        "recordings it predicts you will love. Remove a track to tell it you don't."
    )
