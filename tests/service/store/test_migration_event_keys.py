"""Migration 0004: inferred rating events get their keys, and copies of one event go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from service.store.db import downgrade, upgrade

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _track(conn: object, track_id: str) -> None:
    conn.execute(  # type: ignore[attr-defined]
        text("INSERT INTO tracks (id, name, artists, is_bach, meta, first_seen_at, updated_at)"
             " VALUES (:id, 'Prelude', '[]', true, '{}', :now, :now)"),
        {"id": track_id, "now": T0},
    )  # fmt: skip


def _rating(
    conn: object,
    rid: int,
    track_id: str,
    source: str,
    *,
    value: int | None,
    at: datetime,
    note: str | None = None,
    retracts: int | None = None,
) -> None:
    conn.execute(  # type: ignore[attr-defined]
        text("INSERT INTO ratings (id, track_id, value, source, retracts_id, note, created_at)"
             " VALUES (:id, :track, :value, :source, :retracts, :note, :at)"),
        {"id": rid, "track": track_id, "value": value, "source": source, "retracts": retracts,
         "note": note, "at": at},
    )  # fmt: skip


def test_upgrade_keys_inferred_events_and_removes_the_copies(engine: Engine) -> None:
    downgrade(engine, "0003")
    liked = "2026-10-01T10:00:00+00:00"
    with engine.begin() as conn:
        for track_id in ("a", "b", "c", "d"):
            _track(conn, track_id)
        conn.execute(
            text("INSERT INTO publications (id, playlist_id, snapshot_id, track_ids, created_at)"
                 " VALUES (1, 'p', 's1', '[\"a\", \"b\"]', :at)"),
            {"at": T0},
        )  # fmt: skip
        # one removal of "a" recorded twice (a crash between the removal and the publication)
        _rating(conn, 1, "a", "removal", value=2, at=T0 + timedelta(minutes=1))
        _rating(conn, 2, "a", "removal", value=2, at=T0 + timedelta(minutes=31))
        # one like of "b" read twice, and the unlike that pointed at the second copy
        _rating(conn, 3, "b", "like", value=8, at=T0, note=f"liked {liked}")
        _rating(conn, 4, "b", "like", value=8, at=T0 + timedelta(minutes=1), note=f"liked {liked}")
        _rating(conn, 5, "b", "unlike", value=None, at=T0 + timedelta(hours=1), retracts=4)
        # liked again after the unlike: a new event, not a copy
        _rating(conn, 6, "b", "like", value=8, at=T0 + timedelta(hours=2), note=f"liked {liked}")
        # explicit ratings given twice on purpose stay
        _rating(conn, 7, "c", "explicit", value=9, at=T0)
        _rating(conn, 8, "c", "explicit", value=9, at=T0 + timedelta(minutes=1))
        _rating(conn, 9, "d", "exposure", value=4, at=T0)
        _rating(conn, 10, "d", "exposure", value=4, at=T0 + timedelta(minutes=1))

    upgrade(engine)

    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, source, retracts_id, event_key FROM ratings ORDER BY id")
        ).all()
    assert [(r.id, r.source, r.retracts_id, r.event_key) for r in rows] == [
        (1, "removal", None, "removal:a:1"),
        (3, "like", None, "like:b:2026-10-01T10:00:00Z:0"),
        (5, "unlike", 3, "unlike:3"),
        (6, "like", None, "like:b:2026-10-01T10:00:00Z:1"),
        (7, "explicit", None, None),
        (8, "explicit", None, None),
        (9, "exposure", None, "exposure:d"),
    ]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        _rating(conn, 11, "a", "removal", value=2, at=T0, note=None)
        conn.execute(text("UPDATE ratings SET event_key = 'removal:a:1' WHERE id = 11"))


def test_downgrade_drops_the_key_column_and_its_index(engine: Engine) -> None:
    def shape() -> tuple[set[str], set[str | None]]:
        insp = inspect(engine)
        return (
            {c["name"] for c in insp.get_columns("ratings")},
            {i["name"] for i in insp.get_indexes("ratings")},
        )

    columns, indexes = shape()
    assert "event_key" in columns and "ux_ratings_event_key" in indexes
    downgrade(engine, "0003")
    columns, indexes = shape()
    assert "event_key" not in columns and "ux_ratings_event_key" not in indexes
    upgrade(engine)
    assert shape() == ({*columns, "event_key"}, {*indexes, "ux_ratings_event_key"})
