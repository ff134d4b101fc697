"""Inferred rating events are written once: reading the same like, unlike or exposure again
adds nothing, while a new like after an unlike is a new event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.event_keys import exposure_key
from service.store.ratings import add_inferred_rating, add_like, liked_track_ids, retract_like
from service.store.tables import Rating, Track

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _sources(session: Session) -> list[str]:
    return list(session.scalars(select(Rating.source).order_by(Rating.id)))


def test_the_same_like_read_twice_is_one_event_and_liking_again_is_another(
    session: Session,
) -> None:
    session.add(Track(id="t", name="Aria, BWV 988", is_bach=True))
    added = T0 - timedelta(days=1)

    assert add_like(session=session, track_id="t", value=8, added_at=added) is not None
    assert add_like(session=session, track_id="t", value=8, added_at=added) is None
    assert retract_like(session=session, track_id="t") is not None
    assert retract_like(session=session, track_id="t") is None
    # Spotify lists the like again with the same date (the unlike was a glitch): a new event
    assert add_like(session=session, track_id="t", value=8, added_at=added) is not None
    session.commit()

    assert _sources(session) == ["like", "unlike", "like"]
    assert liked_track_ids(session=session) == {"t"}


def test_an_exposure_is_recorded_once_per_track(session: Session) -> None:
    session.add(Track(id="t", name="Aria, BWV 988", is_bach=True))

    def record() -> Rating | None:
        return add_inferred_rating(
            session=session, track_id="t", value=4, source="exposure", event_key=exposure_key("t")
        )

    assert record() is not None
    assert record() is None
    session.commit()
    assert _sources(session) == ["exposure"]
