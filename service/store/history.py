"""What happened over time: recent job runs, the last publications, every model version.

The status page and ``bachbot status`` tell a listener what changed and how
the model got better; the jobs themselves only ever need the newest row, so
these read-only queries live apart from the ones the jobs use.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.tables import (
    JobRun,
    ModelVersion,
    PlaylistKind,
    Prediction,
    Publication,
    Rating,
    Track,
)


@dataclass(frozen=True)
class LibrarySize:
    """How much bachbot knows, in the listener's terms."""

    tracks: int
    bach_tracks: int


def recent_runs(*, session: Session, limit: int) -> list[JobRun]:
    """The last ``limit`` job runs of any job, newest first."""
    return list(session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(limit)))


def last_publications(
    *, session: Session, kind: PlaylistKind = PlaylistKind.FAVOURITES
) -> tuple[Publication | None, Publication | None]:
    """The newest publication of one of bachbot's playlists and the one before it (or None).

    Only the same playlist counts as "before": after the user deleted the
    playlist and bachbot recreated it, the old list says nothing about the new one.
    """
    latest = session.scalars(
        select(Publication)
        .where(Publication.playlist_kind == kind)
        .order_by(Publication.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None, None
    previous = session.scalars(
        select(Publication)
        .where(Publication.playlist_id == latest.playlist_id, Publication.id < latest.id)
        .order_by(Publication.id.desc())
        .limit(1)
    ).first()
    return latest, previous


def model_history(*, session: Session, limit: int) -> list[ModelVersion]:
    """The last ``limit`` model versions trained, promoted or not, oldest first."""
    newest_first = session.scalars(
        select(ModelVersion)
        .order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())
        .limit(limit)
    )
    return list(newest_first)[::-1]


def model_by_version(*, session: Session, version: str) -> ModelVersion | None:
    return session.scalars(select(ModelVersion).where(ModelVersion.version == version)).first()


def predictions_of(
    *, session: Session, model_version_id: int, track_ids: Collection[str]
) -> dict[str, Prediction]:
    """Track id -> that model's prediction, for the given tracks only."""
    if not track_ids:
        return {}
    rows = session.scalars(
        select(Prediction).where(
            Prediction.model_version_id == model_version_id,
            Prediction.track_id.in_(list(track_ids)),
        )
    )
    return {p.track_id: p for p in rows}


def tracks_by_id(*, session: Session, track_ids: Collection[str]) -> dict[str, Track]:
    if not track_ids:
        return {}
    return {t.id: t for t in session.scalars(select(Track).where(Track.id.in_(list(track_ids))))}


def library_size(*, session: Session) -> LibrarySize:
    total = session.scalar(select(func.count()).select_from(Track)) or 0
    bach = session.scalar(select(func.count()).select_from(Track).where(Track.is_bach)) or 0
    return LibrarySize(tracks=total, bach_tracks=bach)


@dataclass(frozen=True)
class Asked:
    """How the listener has answered "Bach to rate"."""

    asked: int
    """Distinct tracks ever put in "Bach to rate"."""
    answered: int
    """Of those, the ones the listener has since liked, removed or rated."""
    waiting: int
    """Tracks in it now that have no answer yet."""


def to_rate_answers(*, session: Session) -> Asked | None:
    """None until "Bach to rate" has been published once."""
    lists = list(
        session.scalars(
            select(Publication.track_ids)
            .where(Publication.playlist_kind == PlaylistKind.TO_RATE)
            .order_by(Publication.id)
        )
    )
    if not lists:
        return None
    asked = {str(t) for ids in lists for t in (ids or [])}
    answered = (
        set(session.scalars(select(Rating.track_id).where(Rating.track_id.in_(asked))))
        if asked
        else set()
    )
    current = [str(t) for t in (lists[-1] or [])]
    return Asked(len(asked), len(answered), sum(1 for t in current if t not in answered))
