"""The rated tracks as the model sees them: features, labels and related-row groups.

Loads the effective ratings of Bach tracks (sorted by track id, so the data
fingerprint is stable), turns them into the learning target
(:mod:`models.target`: loved or not, graded relevance, explicit or implied),
and describes which rows are related so cross-validation keeps them on one
side of a split:

* the same *recording*: the same ISRC, or the same title, performers and
  duration to the second (a reissue without an ISRC);
* the same *work*: the same BWV work (movements of one suite, one cantata).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.feature_matrix import load_matrix
from jobs.playlist_plan import work_key
from models.folds import Grouping, union_groups
from models.matrix import feature_schema
from models.pipeline import Array
from models.target import Labels, from_ratings
from service.settings import Settings
from service.store.identities import TrackIdentity, track_identities
from service.store.ratings import effective_rating_events
from service.store.tables import Track


@dataclass(frozen=True)
class TrainingData:
    """Rated Bach tracks in a stable order, their features, labels and groups."""

    track_ids: tuple[str, ...]
    X: Array
    labels: Labels
    groupings: tuple[Grouping, ...]
    """Strictest first: work + recording, recording."""
    event_ids: NDArray[np.int64]
    """The rating event that set each row's effective rating (for the hold-out)."""

    @property
    def n(self) -> int:
        return len(self.track_ids)

    @property
    def ratings(self) -> Array:
        ratings = self.labels.ratings
        return ratings if ratings is not None else self.labels.relevance


def _normalised(title: str) -> str:
    return re.sub(r"\W+", " ", title.lower()).strip()


def recording_key(identity: TrackIdentity) -> str | None:
    """ISRC, else title + performers + duration in seconds (None: nothing to go by)."""
    if identity.isrc:
        return f"isrc:{identity.isrc.upper()}"
    if not identity.name or identity.duration_ms is None:
        return None
    seconds = round(identity.duration_ms / 1000)
    return f"take:{_normalised(identity.name)}|{','.join(identity.performer_ids)}|{seconds}"


def groupings_for(identities: Sequence[TrackIdentity]) -> tuple[Grouping, ...]:
    recordings = [recording_key(i) for i in identities]
    works = [work_key(i.bwv) for i in identities]
    return (
        Grouping("work + recording", union_groups(recordings, works)),
        Grouping("recording", union_groups(recordings)),
    )


def load_training_data(*, session: Session, settings: Settings) -> TrainingData:
    ratings = effective_rating_events(session=session)
    bach = set(session.scalars(select(Track.id).where(Track.is_bach.is_(True))))
    ids = tuple(sorted(t for t in ratings if t in bach))
    X = (
        load_matrix(session=session, track_ids=ids)
        if ids
        else np.empty((0, len(feature_schema().columns)))
    )
    labels = from_ratings(
        [ratings[t].value for t in ids],
        threshold=settings.love_threshold,
        explicit=[ratings[t].explicit for t in ids],
    )
    return TrainingData(
        track_ids=ids,
        X=X,
        labels=labels,
        groupings=groupings_for(track_identities(session=session, track_ids=ids)),
        event_ids=np.array([ratings[t].event_id for t in ids], dtype=np.int64),
    )
