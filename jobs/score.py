"""The score job: the promoted model's probability of love for every unrated Bach track.

Thin I/O around :func:`models.pipeline.score`.  A prediction's ``score`` is
the probability (0-1) that the listener loves the track and its
``uncertainty`` the spread of the model's fold fits (see
:class:`models.pipeline.TasteModel`).  Predictions are written for the
promoted model version; predictions of versions no longer promoted are deleted
so the table holds one model's view.  Scoring is incremental: a cycle scores
only the tracks that have no prediction from this model yet, or whose features
arrived after their prediction, so a quiet cycle over 50,000 known tracks costs
a query rather than 50,000 predictions.
After scoring, the predictions a listener may see - the best-scored and the
published - are explained if they are not yet (:mod:`jobs.explain`): the
reasons and nearest rated tracks are stored with them.
A promoted artifact that fails its checks (tampered, other scikit-learn, other
feature schema) is demoted and the report says a retrain is needed, so the
daemon's next train run promotes a fresh model instead of the cycle crashing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from jobs.explain import explain_predictions, to_explain
from jobs.feature_matrix import load_matrix
from models.errors import ArtifactRefused
from models.matrix import feature_schema
from models.pipeline import score
from models.registry import load_model
from service.settings import Settings
from service.store.app_state import SCORE_CHECKED, CheckedMark
from service.store.model_versions import promoted_model
from service.store.ratings import effective_ratings
from service.store.tables import Feature, ModelVersion, Prediction, Rating, Track, utcnow

log = logging.getLogger(__name__)

CHUNK = 5000
"""Tracks per feature-matrix load, so 50,000 candidates never sit in one IN (...) query."""


@dataclass
class ScoreReport:
    status: str
    """``scored``, ``no_model`` or ``model_refused`` (retrain needed)."""
    scored: int = 0
    explained: int = 0
    """Predictions explained this run (the best-scored and the published lacking one)."""
    explain_seconds: float = 0.0
    """Of the run's time, what explaining took (kept in the job run's counts: scoring
    and explaining have separate budgets, and the benchmark reads them apart)."""
    model_version: str | None = None
    kind: str | None = None
    message: str = ""


def tracks_to_score(
    *, session: Session, model_version_id: int, changed_since: datetime | None = None
) -> list[str]:
    """Unrated Bach tracks this model has not scored, or whose features are newer.

    Asked of the database so only those ids come back (at 500,000 known tracks
    a quiet cycle returns a few hundred, not every id).  A prediction is
    stale when a feature row of its track was fetched after it; every score
    run rescores all stale tracks in one transaction, so only features
    fetched after this model's last run (its mark, or its latest prediction)
    can be newer than a prediction, and ``ix_features_fetched_at`` finds those few.

    With ``changed_since`` (the model's :data:`SCORE_CHECKED` mark) unscored
    tracks are looked for only among the tracks added or changed since
    (``ix_tracks_bach_updated``) and the tracks with a rating event (a rating
    taken back makes a track a candidate again without changing the track):
    every other track was scored by an earlier run of this model.
    """
    ratings = effective_ratings(session=session)
    rated = set(ratings)
    scored = (
        select(Prediction.id)
        .where(Prediction.track_id == Track.id, Prediction.model_version_id == model_version_id)
        .exists()
    )
    unscored_query = select(Track.id).where(Track.is_bach.is_(True), ~scored)
    wanted: set[str] = set()
    if changed_since is None:
        wanted.update(session.scalars(unscored_query))
    else:
        wanted.update(session.scalars(unscored_query.where(Track.updated_at >= changed_since)))
        ever_rated = sorted(set(session.scalars(select(Rating.track_id).distinct())) - rated)
        for start in range(0, len(ever_rated), CHUNK):
            chunk = ever_rated[start : start + CHUNK]
            wanted.update(session.scalars(unscored_query.where(Track.id.in_(chunk))))
    # Features fetched since the mark (or, with none, since the model's latest prediction:
    # a read of all its predictions, once per model) are the only ones that can be newer
    # than their track's prediction: every run rescores all stale tracks.
    latest = (
        changed_since
        if changed_since is not None
        else session.scalar(
            select(func.max(Prediction.created_at)).where(
                Prediction.model_version_id == model_version_id
            )
        )
    )
    if latest is not None:  # no prediction yet: every track is unscored anyway
        # Two index-driven steps, not one join: with a join SQLite's planner walks all
        # of the model's predictions (31 s at 500,000) instead of the few new features.
        fresh: dict[str, datetime] = {}
        for track_id, fetched_at in session.execute(
            select(Feature.track_id, Feature.fetched_at).where(Feature.fetched_at > latest)
        ):
            fresh[track_id] = max(fetched_at, fresh.get(track_id, fetched_at))
        ids = list(fresh)
        for start in range(0, len(ids), CHUNK):
            rows = session.execute(
                select(Prediction.track_id, Prediction.created_at).where(
                    Prediction.model_version_id == model_version_id,
                    Prediction.track_id.in_(ids[start : start + CHUNK]),
                )
            )
            wanted.update(t for t, created in rows if fresh[t] > created)
    return sorted(t for t in wanted if t not in rated)


def _delete_other_models(session: Session, model_version_id: int) -> None:
    """Delete the predictions of every other model version, by their ids.

    ``model_version_id != X`` would make the database read every prediction each
    run; the versions are few, so this is an index range (usually empty).
    """
    others = list(
        session.scalars(select(ModelVersion.id).where(ModelVersion.id != model_version_id))
    )
    if others:
        session.execute(delete(Prediction).where(Prediction.model_version_id.in_(others)))


def _delete_predictions(session: Session, model_version_id: int, track_ids: list[str]) -> None:
    for start in range(0, len(track_ids), CHUNK):
        session.execute(
            delete(Prediction).where(
                Prediction.model_version_id == model_version_id,
                Prediction.track_id.in_(track_ids[start : start + CHUNK]),
            )
        )


def score_tracks(*, session: Session, settings: Settings) -> ScoreReport:
    """Score all unrated known Bach tracks with the promoted model (probability of love)."""
    version = promoted_model(session=session)
    if version is None or not version.artifact_path:
        return ScoreReport(status="no_model", message="no model promoted yet; run `bachbot train`")
    schema = feature_schema()
    try:
        model = load_model(
            Path(version.artifact_path),
            schema_version=schema.version,
            columns=schema.columns,
            expected_sha256=version.sha256,
        )
    except ArtifactRefused as err:
        version.promoted = False
        version.decision = f"{version.decision or ''}; demoted {utcnow():%Y-%m-%d}: {err}"
        log.warning("promoted model %s refused: %s", version.version, err)
        return ScoreReport(
            status="model_refused",
            model_version=version.version,
            kind=version.kind,
            message=str(err),
        )
    started = utcnow()
    _delete_other_models(session, version.id)
    mark = SCORE_CHECKED.get(session)
    track_ids = tracks_to_score(
        session=session,
        model_version_id=version.id,
        changed_since=None if mark is None else mark.since(version.id),
    )
    _delete_predictions(session, version.id, track_ids)  # stale ones, rewritten below
    now = utcnow()
    for start in range(0, len(track_ids), CHUNK):
        chunk = track_ids[start : start + CHUNK]
        X = load_matrix(session=session, track_ids=chunk)
        scores, spread = score(model, X)
        session.execute(
            insert(Prediction),
            [
                {
                    "track_id": track_id,
                    "model_version_id": version.id,
                    "score": float(s),
                    "uncertainty": None if np.isnan(u) else float(u),
                    "created_at": now,
                }
                for track_id, s, u in zip(chunk, scores, spread, strict=True)
            ],
        )
    SCORE_CHECKED.put(session, CheckedMark.after_pass(version.id, started=started))
    session.flush()
    explaining = time.monotonic()
    explained = explain_predictions(
        session=session,
        model=model,
        version=version,
        settings=settings,
        track_ids=to_explain(session=session, model_version_id=version.id),
    )
    session.flush()
    return ScoreReport(
        status="scored",
        scored=len(track_ids),
        explained=explained,
        explain_seconds=round(time.monotonic() - explaining, 3),
        model_version=version.version,
        kind=version.kind,
    )
