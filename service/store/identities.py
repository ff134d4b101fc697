"""What makes two rated tracks "the same recording" or "the same work", as plain values.

The evaluation keeps related rows on one side of every cross-validation split
(:mod:`models.folds`); this is the store's side of that: the identifying
columns of each track, in the order asked for, with no model code involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.tables import Track

CHUNK = 5000


@dataclass(frozen=True)
class TrackIdentity:
    """The columns that identify a recording and its work."""

    track_id: str
    isrc: str | None
    name: str
    performer_ids: tuple[str, ...]
    duration_ms: int | None
    bwv: str | None


def track_identities(*, session: Session, track_ids: Sequence[str]) -> list[TrackIdentity]:
    """One identity per id, in the order given (unknown ids get an empty identity)."""
    found: dict[str, TrackIdentity] = {}
    for start in range(0, len(track_ids), CHUNK):
        chunk = list(track_ids[start : start + CHUNK])
        rows = session.execute(
            select(
                Track.id, Track.isrc, Track.name, Track.artists, Track.duration_ms, Track.bwv
            ).where(Track.id.in_(chunk))
        ).all()
        for row in rows:
            performers = tuple(
                sorted(str(a.get("id", "")) for a in (row.artists or []) if isinstance(a, dict))
            )
            found[row.id] = TrackIdentity(
                row.id, row.isrc or None, row.name or "", performers, row.duration_ms, row.bwv
            )
    return [found.get(t, TrackIdentity(t, None, "", (), None, None)) for t in track_ids]
