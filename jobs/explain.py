"""Explanations of predictions: computed after scoring for the tracks a listener can see.

:func:`explain_predictions` is the score job's last step.  It explains the
model's best-scored predictions that have no explanation yet (the top
:data:`EXPLAINED_TOP`, read through the (model, score) index) and every
track of the latest "Predicted favourites" and "Bach to rate" lacking one,
so the status page always has the published tracks' reasons after the next
score.  Not every prediction: at 500,000 known tracks a new model rescores
them all in seconds, but explaining them all would take minutes of Shapley
paths for reasons nobody reads.  ``bachbot explain`` on any other track
explains it when asked (:func:`explain_predictions` with that one id).

:func:`explainer_for` loads the rated tracks (for neighbours and "same work
as a recording you loved") and a fixed sample of the candidates (the
"average candidate" of :mod:`models.explain`), and records what the model
has learned overall (:data:`service.store.app_state.TASTE`) the first time
a model version explains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from jobs.feature_matrix import load_matrix
from jobs.playlist_plan import work_key
from jobs.taste import performers_of, stored_tracks
from models.explain import EXPLAIN_BLOCK, Explainer, taste_effects
from models.explain_words import RatedTracks, TrackFacts
from models.typicality import reference_sample
from service.settings import Settings
from service.store.app_state import EXPLAIN_REFERENCE, TASTE, ReferenceSample, TasteSummary
from service.store.history import last_publications
from service.store.ratings import effective_ratings
from service.store.tables import ModelVersion, PlaylistKind, Prediction, Track

CHUNK = 2000
"""Tracks per feature-matrix load and per IN (...) query."""

BlockExplainer = Callable[[Sequence[str], npt.NDArray[np.float64]], list[dict[str, Any]]]
"""(track ids of a block, their feature matrix) -> one stored explanation per track."""

TASTE_ITEMS = 12
"""Features kept in the taste summary (the page shows fewer)."""
EXPLAINED_TOP = 2000
"""Best-scored predictions explained by each score run (100 times a playlist, so
the picks of a playlist with caps and exploration are among them)."""


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


def unrated_bach_tracks(*, session: Session) -> Iterator[str]:
    """Unrated Bach track ids, by id, as a stream: the explainer's reference sample takes
    500 of them through a heap, so the whole catalogue is never held as a list.  Nothing
    is read until the stream is (a model that drew its sample already does not)."""
    rated = set(effective_ratings(session=session))
    query = select(Track.id).where(Track.is_bach.is_(True)).order_by(Track.id)
    ids = session.scalars(query.execution_options(yield_per=CHUNK))
    yield from (t for t in ids if t not in rated)


def to_explain(*, session: Session, model_version_id: int, top: int | None = None) -> list[str]:
    """Unexplained predictions of this model a listener may see: the best-scored and the shown.

    ``top``: how many of the best-scored to look at (default :data:`EXPLAINED_TOP`).
    """
    top = EXPLAINED_TOP if top is None else top
    best = session.execute(
        select(Prediction.track_id, Prediction.explanation.is_(None))
        .where(Prediction.model_version_id == model_version_id)
        .order_by(Prediction.score.desc(), Prediction.track_id)
        .limit(top)
    )
    wanted = {track_id for track_id, missing in best if missing}
    shown: set[str] = set()
    for kind in PlaylistKind:
        latest, _ = last_publications(session=session, kind=kind)
        if latest is not None:
            shown.update(str(t) for t in latest.track_ids or ())
    ids = sorted(shown)
    for start in range(0, len(ids), CHUNK):
        wanted.update(
            session.scalars(
                select(Prediction.track_id).where(
                    Prediction.model_version_id == model_version_id,
                    Prediction.explanation.is_(None),
                    Prediction.track_id.in_(ids[start : start + CHUNK]),
                )
            )
        )
    return sorted(wanted)


def explain_predictions(
    *,
    session: Session,
    model: Any,
    version: ModelVersion,
    settings: Settings,
    track_ids: Sequence[str],
) -> int:
    """Explain these predictions of ``version`` and store the explanations; how many."""
    if not track_ids:
        return 0
    explain = explainer_for(
        session=session,
        model=model,
        version=version,
        settings=settings,
        candidates=unrated_bach_tracks(session=session),
    )
    done = 0
    for start in range(0, len(track_ids), CHUNK):
        chunk = list(track_ids[start : start + CHUNK])
        explained = explain(chunk, load_matrix(session=session, track_ids=chunk))
        table: Table = Prediction.__table__  # type: ignore[assignment]
        session.execute(  # one executemany (Core: the ORM would look for primary keys)
            update(table)
            .where(table.c.model_version_id == version.id, table.c.track_id == bindparam("tid"))
            .values(explanation=bindparam("why")),
            [{"tid": t, "why": e} for t, e in zip(chunk, explained, strict=True)],
        )
        done += len(chunk)
    return done


def explain_on_demand(
    *, session: Session, version: ModelVersion, settings: Settings, track_id: str
) -> None:
    """Explain one prediction the score job left unexplained (``bachbot explain`` asks).

    :class:`models.errors.ArtifactRefused` when the model in use cannot be loaded.
    """
    from models.matrix import feature_schema
    from models.registry import load_model

    schema = feature_schema()
    model = load_model(
        Path(version.artifact_path or ""),
        schema_version=schema.version,
        columns=schema.columns,
        expected_sha256=version.sha256,
    )
    explain_predictions(
        session=session, model=model, version=version, settings=settings, track_ids=[track_id]
    )
