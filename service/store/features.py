"""Stored feature rows: what each provider said about each track, at which schema version.

A row with ``values`` None means "this provider has nothing for this track"; it
is cached like any other so the provider is not asked again until its schema
version changes.  The store hands out plain values and knows nothing of
providers or of the feature matrix (``jobs.feature_matrix`` builds that).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, func, select, union
from sqlalchemy.orm import Session

from service.store.tables import Feature, Rating, Track, utcnow

StoredValues = Mapping[str, float | None]
"""One provider's numbers for one track, by column name."""


@dataclass(frozen=True, slots=True)
class TrackFacts:
    """What the store knows about a track that could describe it (no ORM object leaks out)."""

    id: str
    name: str
    artists: tuple[dict[str, Any], ...]
    """``[{"id": ..., "name": ...}]`` in Spotify's order, composer included."""
    album_name: str | None
    album_type: str | None
    release_date: str | None
    duration_ms: int | None
    track_number: int | None
    bwv: str | None
    meta: dict[str, Any]
    isrc: str | None = None


def save_features(
    *,
    session: Session,
    provider: str,
    schema_version: int,
    values: Mapping[str, StoredValues | None],
    fetched_at: datetime | None = None,
    reasons: Mapping[str, str] | None = None,
) -> int:
    """Insert or replace ``provider``'s rows for the given track ids; returns how many.

    ``reasons`` says why a provider had nothing for a track (kept with its None row).
    """
    when = fetched_at or utcnow()
    why = reasons or {}
    existing = {
        row.track_id: row
        for row in session.scalars(
            select(Feature).where(Feature.provider == provider, Feature.track_id.in_(list(values)))
        )
    }
    for track_id, row_values in values.items():
        stored = dict(row_values) if row_values is not None else None
        reason = why[track_id][:300] if stored is None and track_id in why else None
        row = existing.get(track_id)
        if row is None:
            session.add(
                Feature(
                    track_id=track_id,
                    provider=provider,
                    schema_version=schema_version,
                    values=stored,
                    fetched_at=when,
                    reason=reason,
                )
            )
        else:
            row.schema_version = schema_version
            row.values = stored
            row.fetched_at = when
            row.reason = reason
    session.flush()
    return len(values)


def tracks_missing_features(
    *,
    session: Session,
    provider: str,
    schema_version: int,
    limit: int | None = None,
    misses_before: datetime | None = None,
    changed_since: datetime | None = None,
) -> list[str]:
    """Bach tracks with no ``provider`` row at ``schema_version``, oldest first.

    With ``misses_before``, also the tracks whose stored miss (a row with a
    reason) was fetched before then: the upstream may have them by now.

    With ``changed_since`` (the caller's :class:`~service.store.app_state.CheckedMark`)
    only tracks added or changed since then are looked at for a missing row,
    through ``ix_tracks_bach_updated``, and the due misses through
    ``ix_features_provider_misses``: at 500,000 known tracks an anti-join over
    every Bach track costs seconds each cycle, these two cost the new tracks.
    """
    row = and_(Feature.track_id == Track.id, Feature.provider == provider)
    lacking = (Feature.track_id.is_(None)) | (Feature.schema_version != schema_version)
    missing = (
        select(Track.id, Track.first_seen_at)
        .outerjoin(Feature, row)
        .where(Track.is_bach.is_(True), lacking)
    )
    if changed_since is not None:
        missing = missing.where(Track.updated_at >= changed_since)
    parts = [missing]
    if misses_before is not None:
        # ``reason IS NOT NULL`` spelled as the partial index's condition, so it is used
        parts.append(
            select(Track.id, Track.first_seen_at)
            .join(Feature, row)
            .where(
                Track.is_bach.is_(True),
                Feature.reason.is_not(None),
                Feature.fetched_at < misses_before,
            )
        )
    due = union(*parts).subquery() if len(parts) > 1 else missing.subquery()
    query = select(due.c.id).order_by(due.c.first_seen_at, due.c.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def tracks_for_features(*, session: Session, track_ids: Sequence[str]) -> list[TrackFacts]:
    """The stored tracks, in ``track_ids`` order (unknown ids skipped)."""
    rows = {t.id: t for t in session.scalars(select(Track).where(Track.id.in_(list(track_ids))))}
    return [
        TrackFacts(
            id=t.id,
            name=t.name,
            artists=tuple(t.artists or ()),
            album_name=t.album_name,
            album_type=t.album_type,
            release_date=t.release_date,
            duration_ms=t.duration_ms,
            track_number=t.track_number,
            bwv=t.bwv,
            meta=dict(t.meta or {}),
            isrc=t.isrc,
        )
        for track_id in track_ids
        if (t := rows.get(track_id)) is not None
    ]


def load_feature_rows(
    *,
    session: Session,
    track_ids: Sequence[str],
    versions: Mapping[str, int],
) -> dict[str, dict[str, dict[str, Any] | None]]:
    """track id -> provider -> stored values (None: provider has nothing).

    Rows at another schema version than ``versions[provider]`` are left out
    (providers not in ``versions`` are kept at any version); every id asked for
    is a key.
    """
    result: dict[str, dict[str, dict[str, Any] | None]] = {tid: {} for tid in track_ids}
    ids = list(result)
    # Core rows on the session's connection, not the ORM's result: this runs for every
    # track when a model changes, and the ORM's row handling was half its time
    # (0.95 s -> 0.47 s for 20,000 tracks).  The flush stands for the ORM's autoflush.
    session.flush()
    connection = session.connection()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = connection.execute(
            select(
                Feature.track_id, Feature.provider, Feature.schema_version, Feature.values
            ).where(Feature.track_id.in_(chunk))
        )
        for track_id, provider, schema_version, values in rows:
            if versions.get(provider, schema_version) != schema_version:
                continue
            result[track_id][provider] = values
    return result


@dataclass(frozen=True, slots=True)
class Coverage:
    """How many Bach tracks one provider has described: the rated ("known") and the rest."""

    known: int
    known_described: int
    new: int
    new_described: int


def feature_coverage(*, session: Session, versions: Mapping[str, int]) -> dict[str, Coverage]:
    """Provider -> how many known and new Bach tracks have its values at ``versions[provider]``.

    A track is *known* when it has any rating event; a stored miss does not count as
    described.  Two grouped counts, whatever the library's size.
    """
    rated = select(Rating.track_id).distinct().scalar_subquery()
    known = case((Track.id.in_(rated), 1), else_=0)
    totals = {
        flag: count
        for flag, count in session.execute(
            select(known, func.count()).where(Track.is_bach.is_(True)).group_by(known)
        )
    }
    has_values = func.coalesce(cast(Feature.values, String), "null") != "null"
    described: dict[tuple[str, int], int] = {}
    for provider, version, flag, count in session.execute(
        select(Feature.provider, Feature.schema_version, known, func.count())
        .join(Track, Track.id == Feature.track_id)
        .where(Track.is_bach.is_(True), has_values)
        .group_by(Feature.provider, Feature.schema_version, known)
    ):
        if versions.get(provider) == version:
            described[(provider, flag)] = described.get((provider, flag), 0) + count
    return {
        provider: Coverage(
            known=totals.get(1, 0),
            known_described=described.get((provider, 1), 0),
            new=totals.get(0, 0),
            new_described=described.get((provider, 0), 0),
        )
        for provider in versions
    }
