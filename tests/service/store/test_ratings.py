from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.errors import ConfigError
from service.store.ratings import (
    RatingEvent,
    add_rating,
    derive_effective,
    effective_ratings,
    liked_track_ids,
    rating_history,
    retract_like,
)
from service.store.tables import Rating, Track

E = RatingEvent


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([E(1, "t", 8, "like")], {"t": 8.0}),
        ([E(1, "t", 8, "like"), E(2, "t", None, "unlike", 1)], {}),
        ([E(1, "t", 2, "removal"), E(2, "t", 8, "like")], {"t": 8.0}),
        ([E(1, "t", 8, "like"), E(2, "t", 3, "explicit")], {"t": 3.0}),
        ([E(1, "t", 3, "explicit"), E(2, "t", 8, "like")], {"t": 3.0}),
        ([E(1, "t", 3, "import"), E(2, "t", 9, "explicit")], {"t": 9.0}),
        ([E(1, "t", 2, "removal"), E(2, "t", 8, "like"), E(3, "t", None, "unlike", 2)], {"t": 2.0}),
        ([E(1, "a", 8, "like"), E(2, "b", 4, "exposure")], {"a": 8.0, "b": 4.0}),
    ],
    ids=[
        "like",
        "unlike-retracts",
        "like-after-removal",
        "explicit-outranks-like",
        "explicit-outranks-later-like",
        "latest-explicit",
        "unlike-falls-back-to-removal",
        "two-tracks",
    ],
)
def test_effective_rating_is_derived_from_history(
    events: list[RatingEvent], expected: dict[str, float]
) -> None:
    assert derive_effective(events) == expected


def test_history_keeps_every_row_and_derives_effective_rating(session: Session) -> None:
    session.add(Track(id="t1", name="Aria"))
    session.flush()
    add_rating(session=session, track_id="t1", value=8, source="like")
    assert retract_like(session=session, track_id="t1") is not None
    assert retract_like(session=session, track_id="t1") is None  # nothing left to retract
    add_rating(session=session, track_id="t1", value=8, source="like")
    add_rating(session=session, track_id="t1", value=5, source="explicit")
    session.commit()
    history = rating_history(session=session, track_id="t1")
    assert [r.source for r in history] == ["like", "unlike", "like", "explicit"]
    assert effective_ratings(session=session) == {"t1": 5.0}
    assert liked_track_ids(session=session) == {"t1"}
    assert session.scalar(select(func.count()).select_from(Rating)) == 4


@pytest.mark.parametrize("value", [0, 11, -1, 5.5, True])
def test_rating_out_of_range_is_refused(session: Session, value: object) -> None:
    session.add(Track(id="t1", name="Aria"))
    with pytest.raises(ConfigError, match="1 to 10"):
        add_rating(session=session, track_id="t1", value=value, source="explicit")  # type: ignore[arg-type]
