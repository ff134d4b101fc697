"""Exposure events: what the user heard (recently played) or keeps hearing (top tracks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.tables import Listen, Publication


def add_listen(*, session: Session, track_id: str, played_at: datetime, source: str) -> bool:
    """Record one listen unless it is already there; True when added."""
    exists = session.scalar(
        select(Listen.id).where(
            Listen.track_id == track_id, Listen.played_at == played_at, Listen.source == source
        )
    )
    if exists is not None:
        return False
    session.add(Listen(track_id=track_id, played_at=played_at, source=source))
    session.flush()
    return True


def play_counts(*, session: Session, source: str = "recent") -> dict[str, int]:
    """Track id -> number of recorded plays from ``source``."""
    rows = session.execute(
        select(Listen.track_id, func.count())
        .where(Listen.source == source)
        .group_by(Listen.track_id)
    ).all()
    return {track_id: int(count) for track_id, count in rows}


def published_track_ids(*, session: Session) -> set[str]:
    """Every track bachbot ever put into "Predicted favourites"."""
    found: set[str] = set()
    for ids in session.scalars(select(Publication.track_ids)):
        found.update(str(t) for t in ids or [])
    return found
