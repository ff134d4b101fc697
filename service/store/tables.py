"""The ORM tables: everything bachbot knows, in one schema for SQLite and PostgreSQL.

Ratings are an append-only event history; the effective rating is derived by
:mod:`service.store.ratings`, never stored.  Schema changes go through an
Alembic migration in ``service/store/migrations``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

UPSIDE_Z = 2.0
"""A prediction's upside is ``score + UPSIDE_Z * uncertainty``: its plausible best case,
the order of "Predicted favourites"' exploration slots."""
UPSIDE_SQL = "score + 2.0 * coalesce(uncertainty, 0.0)"
"""The upside as SQL, spelled with literals exactly as ``ix_predictions_model_upside``
holds it: a planner uses an expression index only for the same expression (a bound
parameter in place of 2.0 would not match)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both back-ends (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; bachbot stores UTC-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Track(Base):
    """A recording known to bachbot (Bach or not: only Bach ones are candidates)."""

    __tablename__ = "tracks"
    __table_args__ = (Index("ix_tracks_bach_updated", "is_bach", "updated_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    artists: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """``[{"id": ..., "name": ...}, ...]`` in Spotify's order."""
    album_id: Mapped[str | None] = mapped_column(String(64))
    album_name: Mapped[str | None] = mapped_column(Text)
    album_type: Mapped[str | None] = mapped_column(String(32))
    release_date: Mapped[str | None] = mapped_column(String(16))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    isrc: Mapped[str | None] = mapped_column(String(32))
    track_number: Mapped[int | None] = mapped_column(Integer)
    is_bach: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    bwv: Mapped[str | None] = mapped_column(String(32), index=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Parsed title metadata: key, mode, forms, movement, instrumentation."""
    source: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Album(Base):
    """An album found by the catalogue walk; ``tracks_read_at`` marks it done."""

    __tablename__ = "albums"
    __table_args__ = (Index("ix_albums_unread_release", "tracks_read_at", "release_date"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    album_type: Mapped[str | None] = mapped_column(String(32))
    release_date: Mapped[str | None] = mapped_column(String(16))
    total_tracks: Mapped[int | None] = mapped_column(Integer)
    found_via: Mapped[str | None] = mapped_column(String(128))
    tracks_read_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogueCursor(Base):
    """Where an incremental walk (artist albums, a search, saved albums) stands."""

    __tablename__ = "catalogue_cursors"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    offset: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Playlist(Base):
    """A playlist of the user's, readable or not (and why not)."""

    __tablename__ = "playlists"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(String(128))
    owner_name: Mapped[str | None] = mapped_column(Text)
    snapshot_id: Mapped[str | None] = mapped_column(String(255))
    """The snapshot id last seen in ``/me/playlists``."""
    synced_snapshot_id: Mapped[str | None] = mapped_column(String(255))
    """The snapshot id whose items are stored in playlist_tracks."""
    owned: Mapped[bool] = mapped_column(Boolean, default=False)
    collaborative: Mapped[bool] = mapped_column(Boolean, default=False)
    followed: Mapped[bool] = mapped_column(Boolean, default=True)
    readable: Mapped[bool] = mapped_column(Boolean, default=True)
    unreadable_reason: Mapped[str | None] = mapped_column(Text)
    is_bot_playlist: Mapped[bool] = mapped_column(Boolean, default=False)
    last_synced_at: Mapped[datetime | None] = mapped_column(default=None)
    last_checked_at: Mapped[datetime | None] = mapped_column(default=None)


class PlaylistTrack(Base):
    __tablename__ = "playlist_tracks"

    playlist_id: Mapped[str] = mapped_column(
        ForeignKey("playlists.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id"), index=True)
    added_at: Mapped[datetime | None] = mapped_column(default=None)


class Feature(Base):
    """One provider's descriptors of one track (``values`` None: provider has none)."""

    __tablename__ = "features"
    __table_args__ = (
        Index("ix_features_fetched_at", "fetched_at"),
        Index(
            "ix_features_provider_misses",
            "provider",
            "fetched_at",
            sqlite_where=text("reason IS NOT NULL"),
            postgresql_where=text("reason IS NOT NULL"),
        ),
    )

    track_id: Mapped[str] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    schema_version: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    """Why the provider had nothing (None: it had values, or gave no reason)."""


RATING_SOURCES = ("like", "unlike", "removal", "explicit", "import", "exposure")


class Rating(Base):
    """One rating event.  Rows are only ever added; see service.store.ratings."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ux_ratings_event_key", "event_key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id"), index=True)
    value: Mapped[int | None] = mapped_column(Integer)
    """1-10; None for a retraction (an unlike)."""
    source: Mapped[str] = mapped_column(String(16))
    retracts_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event_key: Mapped[str | None] = mapped_column(String(96), default=None)
    """What an inferred event was inferred from (see service.store.event_keys); unique, so a
    replay after a crash writes nothing.  None for explicit and imported ratings."""


class Listen(Base):
    """An exposure: the user heard a track (recently played) or it is in their top tracks."""

    __tablename__ = "listens"
    __table_args__ = (UniqueConstraint("track_id", "played_at", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id"), index=True)
    played_at: Mapped[datetime] = mapped_column()
    source: Mapped[str] = mapped_column(String(16))


class ModelVersion(Base):
    """A trained model: where its artifact is, what it scored, whether it is in use."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artifact_path: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    feature_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data_fingerprint: Mapped[str | None] = mapped_column(String(64))
    n_ratings: Mapped[int] = mapped_column(Integer, default=0)
    promoted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    promoted_at: Mapped[datetime | None] = mapped_column(default=None)
    decision: Mapped[str | None] = mapped_column(Text)


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        UniqueConstraint("track_id", "model_version_id"),
        Index("ix_predictions_model_score", "model_version_id", "score"),
        Index(
            "ix_predictions_model_upside",
            "model_version_id",
            text(f"({UPSIDE_SQL}) DESC"),
            text("score DESC"),
            "track_id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    track_id: Mapped[str] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    uncertainty: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """Why the model gave this score (:mod:`jobs.explain`); None: scored before explanations."""


class PlaylistKind(StrEnum):
    """bachbot's own playlists."""

    FAVOURITES = "favourites"
    """"Predicted favourites": what the model expects the listener to love."""
    TO_RATE = "to_rate"
    """"Bach to rate": what the model would learn most from hearing about."""


class Publication(Base):
    """What bachbot wrote into one of its playlists, in order."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    playlist_id: Mapped[str] = mapped_column(String(64), index=True)
    playlist_kind: Mapped[str] = mapped_column(
        String(16), default=PlaylistKind.FAVOURITES, server_default=PlaylistKind.FAVOURITES.value
    )
    snapshot_id: Mapped[str | None] = mapped_column(String(255))
    track_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    model_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthToken(Base):
    """The Spotify token (a spotipy token_info dict).  Secret: never printed."""

    __tablename__ = "oauth_tokens"

    name: Mapped[str] = mapped_column(String(32), primary_key=True, default="default")
    token_info: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"OAuthToken(name={self.name!r}, token_info=<hidden>)"


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="running")
    """running, ok, failed, skipped."""
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class AppState(Base):
    """Small named facts: the bot playlist id, provider availability, resume times."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


ALL_TABLES = [
    Track,
    Album,
    CatalogueCursor,
    Playlist,
    PlaylistTrack,
    Feature,
    Rating,
    Listen,
    ModelVersion,
    Prediction,
    Publication,
    OAuthToken,
    JobRun,
    AppState,
]
