"""Rating events and the effective rating derived from them.

Nothing here updates or deletes a rating row: a like, an unlike (which
retracts that like), a removal from "Predicted favourites", an exposure, an
explicit rating and an imported one are all appended.  The effective rating
of a track is a query over that history:

1. the latest explicit or imported rating, if any (the user said so);
2. otherwise the latest implicit event that still stands (a like not
   retracted, a removal, an exposure), so a track liked after being removed
   counts as liked.

Events bachbot infers (likes, unlikes, removals, exposures) are written with
an idempotency key (:mod:`service.store.event_keys`), so recording the same
one again after a crash adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.errors import ConfigError
from service.store.event_keys import insert_once, like_key, unlike_key
from service.store.tables import RATING_SOURCES, Rating, utcnow

EXPLICIT_SOURCES = frozenset({"explicit", "import"})
IMPLICIT_SOURCES = frozenset({"like", "removal", "exposure"})


@dataclass(frozen=True)
class RatingEvent:
    """The fields of a rating row that the derivation needs (pure, testable by tables)."""

    id: int
    track_id: str
    value: int | None
    source: str
    retracts_id: int | None = None


def validate_value(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise ConfigError(f"a rating must be a whole number from 1 to 10, got {value!r}")
    return value


def add_rating(
    *,
    session: Session,
    track_id: str,
    value: int,
    source: str,
    note: str | None = None,
    created_at: datetime | None = None,
) -> Rating:
    """Append one rating event (1-10) from ``source``."""
    if source not in RATING_SOURCES or source == "unlike":
        raise ValueError(f"unknown rating source {source!r}")
    rating = Rating(
        track_id=track_id,
        value=validate_value(value),
        source=source,
        note=note,
        created_at=created_at or utcnow(),
    )
    session.add(rating)
    session.flush()
    return rating


def add_inferred_rating(
    *,
    session: Session,
    track_id: str,
    value: int,
    source: str,
    event_key: str,
    note: str | None = None,
    created_at: datetime | None = None,
) -> Rating | None:
    """Append an event bachbot inferred (a removal, an exposure) unless ``event_key`` is
    recorded already; the new row, or None when it was."""
    if source not in IMPLICIT_SOURCES:
        raise ValueError(f"{source!r} is not an inferred rating source")
    return insert_once(
        session=session,
        values={
            "track_id": track_id,
            "value": validate_value(value),
            "source": source,
            "note": note,
            "created_at": created_at or utcnow(),
            "event_key": event_key,
        },
    )


def add_like(
    *,
    session: Session,
    track_id: str,
    value: int,
    added_at: datetime,
    created_at: datetime | None = None,
) -> Rating | None:
    """Record a like Spotify dates ``added_at``, once (see :func:`like_key`); None if recorded."""
    unlikes = session.scalar(
        select(func.count())
        .select_from(Rating)
        .where(Rating.track_id == track_id, Rating.source == "unlike")
    )
    return insert_once(
        session=session,
        values={
            "track_id": track_id,
            "value": validate_value(value),
            "source": "like",
            "note": f"liked {added_at.isoformat()}",
            "created_at": created_at or utcnow(),
            "event_key": like_key(track_id, added_at, unlikes or 0),
        },
    )


def retract_like(
    *, session: Session, track_id: str, created_at: datetime | None = None
) -> Rating | None:
    """Record an unlike: a retraction row pointing at the standing like, if there is one."""
    like = session.scalars(
        select(Rating)
        .where(Rating.track_id == track_id, Rating.source == "like")
        .order_by(Rating.id.desc())
    ).first()
    if like is None or like.id in _retracted_ids(session, [track_id]):
        return None
    return insert_once(
        session=session,
        values={
            "track_id": track_id,
            "value": None,
            "source": "unlike",
            "retracts_id": like.id,
            "created_at": created_at or utcnow(),
            "event_key": unlike_key(like.id),
        },
    )


def _retracted_ids(session: Session, track_ids: Iterable[str]) -> set[int]:
    return {
        rid
        for rid in session.scalars(
            select(Rating.retracts_id).where(
                Rating.track_id.in_(list(track_ids)), Rating.retracts_id.is_not(None)
            )
        )
        if rid is not None
    }


@dataclass(frozen=True)
class EffectiveRating:
    """A track's effective rating, where it came from and the event that set it."""

    value: float
    source: str
    event_id: int

    @property
    def explicit(self) -> bool:
        return self.source in EXPLICIT_SOURCES


def derive_effective_events(events: Iterable[RatingEvent]) -> dict[str, EffectiveRating]:
    """Effective rating per track with its deciding event (see the module docstring)."""
    ordered = sorted(events, key=lambda e: e.id)
    retracted = {e.retracts_id for e in ordered if e.retracts_id is not None}
    explicit: dict[str, EffectiveRating] = {}
    implicit: dict[str, EffectiveRating] = {}
    for event in ordered:
        if event.value is None or event.id in retracted:
            continue
        rating = EffectiveRating(float(event.value), event.source, event.id)
        if event.source in EXPLICIT_SOURCES:
            explicit[event.track_id] = rating
        elif event.source in IMPLICIT_SOURCES:
            implicit[event.track_id] = rating
    return {**implicit, **explicit}


def derive_effective(events: Iterable[RatingEvent]) -> dict[str, float]:
    """Effective rating per track from its event history (see the module docstring)."""
    return {t: r.value for t, r in derive_effective_events(events).items()}


def load_events(*, session: Session) -> list[RatingEvent]:
    rows = session.execute(
        select(Rating.id, Rating.track_id, Rating.value, Rating.source, Rating.retracts_id)
    ).all()
    return [RatingEvent(r.id, r.track_id, r.value, r.source, r.retracts_id) for r in rows]


def effective_ratings(*, session: Session) -> dict[str, float]:
    """Track id -> effective rating (1-10) for every rated track."""
    return derive_effective(load_events(session=session))


def effective_rating_events(*, session: Session) -> dict[str, EffectiveRating]:
    """Track id -> effective rating with its source and deciding event id."""
    return derive_effective_events(load_events(session=session))


def liked_track_ids(*, session: Session) -> set[str]:
    """Tracks whose latest like still stands (not retracted)."""
    events = load_events(session=session)
    retracted = {e.retracts_id for e in events if e.retracts_id is not None}
    return {e.track_id for e in events if e.source == "like" and e.id not in retracted}


def rated_track_ids(*, session: Session) -> set[str]:
    """Tracks with any rating event (for exclusion from publishing)."""
    return set(session.scalars(select(Rating.track_id).distinct()))


def rating_history(*, session: Session, track_id: str) -> list[Rating]:
    return list(
        session.scalars(select(Rating).where(Rating.track_id == track_id).order_by(Rating.id))
    )
