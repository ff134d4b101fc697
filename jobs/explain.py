"""Explanations for newly scored tracks, computed by the score job block by block.

:func:`explainer_for` is called once per score run that has tracks to score:
it loads the rated tracks (for neighbours and "same work as a recording you
loved") and a fixed sample of the candidates (the "average candidate" of
:mod:`models.explain`), and records what the model has learned overall
(:data:`service.store.app_state.TASTE`) the first time a model version scores.
The returned function explains one block of tracks from the matrix the score
job already loaded, so explanations add one batched model pass per block and
no second read of the features.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from jobs.feature_matrix import load_matrix
from jobs.playlist_plan import work_key
from jobs.taste import performers_of, stored_tracks
from models.explain import Explainer, taste_effects
from models.explain_words import RatedTracks, TrackFacts
from models.typicality import reference_sample
from service.settings import Settings
from service.store.app_state import EXPLAIN_REFERENCE, TASTE, ReferenceSample, TasteSummary
from service.store.ratings import effective_ratings
from service.store.tables import ModelVersion, Track

BlockExplainer = Callable[[Sequence[str], npt.NDArray[np.float64]], list[dict[str, Any]]]
"""(track ids of a block, their feature matrix) -> one stored explanation per track."""

EXPLAIN_BLOCK = 100
"""Tracks per Shapley pass: its paths are walked for a whole block at once, so the
peak memory grows with the block (measured on the bench's model: 500 tracks in one pass
+159 MB, in passes of 100 +40 MB, 1.1 s and 1.2 s); a cycle's 500 new tracks go through
in five passes and its peak RSS stays under issue 21's 300 MB."""
TASTE_ITEMS = 12
"""Features kept in the taste summary (the page shows fewer)."""


def facts_of(track: Track | None, composers: frozenset[str]) -> TrackFacts:
    if track is None:
        return TrackFacts(work=None, bwv=None, performers={})
    return TrackFacts(work_key(track.bwv), track.bwv, performers_of(track.artists, composers))


def rated_tracks(*, session: Session, settings: Settings) -> RatedTracks:
    """Every rated track with its effective rating, features, work and performers."""
    ratings = effective_ratings(session=session)
    ids = sorted(ratings)
    tracks = stored_tracks(session, ids)
    composers = frozenset(settings.composer_artist_ids)
    values = np.array([ratings[t] for t in ids], dtype=float)
    return RatedTracks(
        ids=tuple(ids),
        names=tuple(tracks[t].name if t in tracks else t for t in ids),
        ratings=values,
        X=load_matrix(session=session, track_ids=ids),
        loved=values >= settings.love_threshold,
        works=tuple(work_key(tracks[t].bwv) if t in tracks else None for t in ids),
        performers=tuple(
            frozenset(performers_of(tracks[t].artists, composers)) if t in tracks else frozenset()
            for t in ids
        ),
    )


def explainer_for(
    *,
    session: Session,
    model: Any,
    version: ModelVersion,
    settings: Settings,
    candidates: Iterable[str],
) -> BlockExplainer:
    """The block explainer of one score run (see the module); ``candidates``: unrated ids,
    iterated only the first time this model explains (:data:`EXPLAIN_REFERENCE`)."""
    rated = rated_tracks(session=session, settings=settings)
    sample = load_matrix(
        session=session, track_ids=_reference_ids(session, version, candidates, set(rated.ids))
    )
    explainer = Explainer.build(model, columns=model.columns, sample=sample, rated=rated)
    taste = TASTE.get(session)
    if taste is None or taste.model_version != version.version:
        items = taste_effects(explainer.probability, sample, explainer.reference, explainer.groups)
        TASTE.put(
            session,
            TasteSummary(version.version, tuple(t.to_dict() for t in items[:TASTE_ITEMS])),
        )
    composers = frozenset(settings.composer_artist_ids)

    def explain(track_ids: Sequence[str], X: npt.NDArray[np.float64]) -> list[dict[str, Any]]:
        tracks = stored_tracks(session, track_ids)
        facts = [facts_of(tracks.get(t), composers) for t in track_ids]
        return [
            e.to_dict()
            for start in range(0, len(track_ids), EXPLAIN_BLOCK)
            for e in explainer.explain(
                X[start : start + EXPLAIN_BLOCK], facts[start : start + EXPLAIN_BLOCK]
            )
        ]

    return explain


def _reference_ids(
    session: Session, version: ModelVersion, candidates: Iterable[str], rated: set[str]
) -> list[str]:
    """The model's reference sample: drawn from ``candidates`` once, then kept.

    Tracks rated since it was drawn leave it (they are no longer candidates); new
    tracks do not enter it, so the model's explanations keep one reference.
    """
    kept = EXPLAIN_REFERENCE.get(session)
    if kept is not None and kept.model_version_id == version.id:
        return [t for t in kept.track_ids if t not in rated]
    ids = reference_sample(candidates, seed=version.id)
    EXPLAIN_REFERENCE.put(session, ReferenceSample(version.id, tuple(ids)))
    return ids
