"""Idempotency keys of the rating events bachbot infers: a replay after a crash writes nothing.

A job can die after it committed an inferred event and before it recorded what
the event was inferred from: publish commits the user's removals at a
checkpoint, before its publication row, so a kill between the two made the
next run read the same removal again and record it twice (the effective
rating stayed right, but the retrain trigger and the rating-events metric
counted it twice).  Every inferred event therefore carries a key that names
what it was inferred from, the ``ratings.event_key`` column has a unique
index, and :func:`insert_once` inserts with ``ON CONFLICT DO NOTHING``
(SQLite and PostgreSQL both have it), so a replay is a no-op whatever moment
the crash hit.

The keys (``source:track:basis``):

* like: ``like:<track>:<added at>:<n>``, Spotify's "added at" of the like and
  ``n`` the unlikes of the track recorded before it, so liking a track again
  after an unlike is a new event while re-reading the same like is not;
* unlike: ``unlike:<id of the like it retracts>``;
* removal: ``removal:<track>:<publication id>``, the newest publication that
  held the track (the list the user took it out of); ``-`` when none did;
* exposure: ``exposure:<track>`` (a weak negative is recorded once per track).

Explicit and imported ratings carry no key (NULL, which the unique index
allows any number of times): a person may give the same rating twice on
purpose.  Migration ``0004`` gave the events recorded before it their keys,
with these same rules, and removed the duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.store.tables import Publication, Rating

NO_PUBLICATION = "-"


def like_key(track_id: str, added_at: datetime, unlikes_before: int) -> str:
    return f"like:{track_id}:{_stamp(added_at)}:{unlikes_before}"


def unlike_key(like_id: int) -> str:
    return f"unlike:{like_id}"


def removal_key(track_id: str, publication_id: int | None) -> str:
    basis = NO_PUBLICATION if publication_id is None else str(publication_id)
    return f"removal:{track_id}:{basis}"


def exposure_key(track_id: str) -> str:
    return f"exposure:{track_id}"


def _stamp(moment: datetime) -> str:
    """Seconds in UTC: Spotify's ``added_at`` has no more, and a naive time is UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def newest_publications_holding(*, session: Session, track_ids: Iterable[str]) -> dict[str, int]:
    """Track id -> id of the newest publication whose list holds it (tracks in none: absent).

    Reads publications newest first and stops once every track is placed: a
    removed track is in the last list bachbot wrote, so this is one row as a rule.
    """
    wanted = set(track_ids)
    found: dict[str, int] = {}
    rows = session.execute(
        select(Publication.id, Publication.track_ids)
        .order_by(Publication.id.desc())
        .execution_options(yield_per=20)
    )
    for publication_id, listed in rows:
        for track_id in wanted.intersection(str(t) for t in listed or ()):
            found[track_id] = publication_id
        wanted -= found.keys()
        if not wanted:
            break
    rows.close()
    return found


def insert_once(*, session: Session, values: dict[str, Any]) -> Rating | None:
    """Insert one rating row unless a row with its ``event_key`` exists; the new row or None.

    ``INSERT ... ON CONFLICT (event_key) DO NOTHING``: race-free, and the
    transaction stays usable after a conflict (no IntegrityError to recover from).
    """
    if not values.get("event_key"):
        raise ValueError("insert_once needs an event_key")
    session.flush()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Rating)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Rating.event_key])
        .returning(Rating.id)
    )
    new_id = session.execute(statement).scalar_one_or_none()
    return None if new_id is None else session.get_one(Rating, new_id)
