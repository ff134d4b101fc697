"""Inferred rating events get an idempotency key; duplicates recorded before are removed.

A crash inside publish, between committing the user's removals and recording
the publication, made the next run record the same removal again (see
``service/store/event_keys.py``).  This adds ``ratings.event_key``, gives every
existing like, unlike, removal and exposure its key by the same rules, deletes
the later copies of an event recorded twice (an unlike that pointed at a
deleted copy of a like is pointed at the copy that stays), and only then adds
the unique index.  Explicit and imported ratings keep no key.

The rules are restated here, not imported: a migration must keep doing what
it did when it was written.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 02:00:00
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEX = "ux_ratings_event_key"

ratings = sa.table(
    "ratings",
    sa.column("id", sa.Integer()),
    sa.column("track_id", sa.String()),
    sa.column("source", sa.String()),
    sa.column("retracts_id", sa.Integer()),
    sa.column("note", sa.Text()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("event_key", sa.String()),
)
publications = sa.table(
    "publications",
    sa.column("id", sa.Integer()),
    sa.column("track_ids", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return _utc(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _added_at(note: str | None, created_at: datetime) -> datetime:
    """Spotify's "added at" of a like, kept in its note as ``liked <iso time>``."""
    if note and note.startswith("liked "):
        try:
            return datetime.fromisoformat(note.removeprefix("liked ").strip())
        except ValueError:
            pass
    return created_at


class _Keys:
    """The keys of the existing events, and which rows are later copies of an earlier one."""

    def __init__(self, rows: list[Any], shelves: dict[str, list[tuple[datetime, int]]]) -> None:
        self.rows = sorted(rows, key=lambda r: r.id)
        self.shelves = shelves
        self.keys: dict[int, str] = {}
        self.duplicates: dict[int, int] = {}
        """Deleted row id -> the row id that stays."""
        self.original = {r.id: r.retracts_id for r in self.rows}
        self.retracts = dict(self.original)
        """Row id -> the like it retracts, pointed at the copy that stays."""

    def _claim(self, row_id: int, key: str, seen: dict[str, int]) -> None:
        if key in seen:
            self.duplicates[row_id] = seen[key]
        else:
            seen[key] = row_id
            self.keys[row_id] = key

    def compute(self) -> None:
        seen: dict[str, int] = {}
        unlikes: dict[str, int] = defaultdict(int)
        for row in self.rows:  # likes first: an unlike may point at a copy that goes
            if row.source == "unlike":
                unlikes[row.track_id] += 1
            elif row.source == "like":
                added = _stamp(_added_at(row.note, row.created_at))
                self._claim(row.id, f"like:{row.track_id}:{added}:{unlikes[row.track_id]}", seen)
        for row in self.rows:
            if row.source == "unlike" and row.retracts_id is not None:
                like = self.duplicates.get(row.retracts_id, row.retracts_id)
                self.retracts[row.id] = like
                self._claim(row.id, f"unlike:{like}", seen)
            elif row.source == "removal":
                basis = self._publication_before(row.track_id, _utc(row.created_at))
                self._claim(row.id, f"removal:{row.track_id}:{basis}", seen)
            elif row.source == "exposure":
                self._claim(row.id, f"exposure:{row.track_id}", seen)

    def _publication_before(self, track_id: str, moment: datetime) -> str:
        """The newest publication holding the track, written no later than the removal."""
        best: int | None = None
        for created, publication_id in self.shelves.get(track_id, ()):
            if created <= moment and (best is None or publication_id > best):
                best = publication_id
        return "-" if best is None else str(best)


def _chunks(items: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upgrade() -> None:
    op.add_column("ratings", sa.Column("event_key", sa.String(length=96), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            ratings.c.id, ratings.c.track_id, ratings.c.source, ratings.c.retracts_id,
            ratings.c.note, ratings.c.created_at,
        ).where(ratings.c.source.in_(["like", "unlike", "removal", "exposure"]))
    ).all()  # fmt: skip
    shelves: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    removed = {r.track_id for r in rows if r.source == "removal"}
    if removed:
        for publication_id, listed, created in bind.execute(
            sa.select(publications.c.id, publications.c.track_ids, publications.c.created_at)
        ):
            for track_id in removed.intersection(str(t) for t in listed or ()):
                shelves[track_id].append((_utc(created), publication_id))
    keys = _Keys(list(rows), shelves)
    keys.compute()
    repoint = [
        {"row": row_id, "like": like}
        for row_id, like in keys.retracts.items()
        if like is not None and like != keys.original[row_id]
    ]
    if repoint:
        bind.execute(
            ratings.update()
            .where(ratings.c.id == sa.bindparam("row"))
            .values(retracts_id=sa.bindparam("like")),
            repoint,
        )
    doomed = sorted(keys.duplicates)
    for chunk in _chunks(doomed):  # later copies first: nothing points at them any more
        bind.execute(ratings.delete().where(ratings.c.id.in_(chunk)))
    if keys.keys:
        bind.execute(
            ratings.update()
            .where(ratings.c.id == sa.bindparam("row"))
            .values(event_key=sa.bindparam("key")),
            [{"row": row_id, "key": key} for row_id, key in keys.keys.items()],
        )
    op.create_index(INDEX, "ratings", ["event_key"], unique=True)


def downgrade() -> None:
    """The duplicates are not restored: they were one event recorded twice."""
    op.drop_index(INDEX, table_name="ratings")
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("event_key")
