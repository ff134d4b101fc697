"""The train job: ratings + features from the database -> a registered model version.

Thin I/O around :mod:`models`: load the effective ratings of Bach tracks and
their feature matrix, train (or fit the cold-start fallback below
``settings.min_ratings``), save the artifact, and record a ``ModelVersion``
with the promotion decision and both scores.  Every run records a version, even
an unpromoted one, so the scheduler's "last trained" clock advances.

How the gate compares (see :mod:`models.registry`): if the current model was
evaluated on exactly this data with the same folds, its stored nested R2 is
used; otherwise its configuration is re-scored on this data's outer folds.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.coldstart import fit_coldstart
from models.evaluate import (
    Evaluation,
    TrainResult,
    evaluate_fixed,
    minimum_samples,
    refit_fixed,
    train_model,
)
from models.matrix import FEATURE_SCHEMA
from models.pipeline import Array, ModelOptions
from models.registry import (
    Incumbent,
    ModelError,
    PromotionDecision,
    decide_promotion,
    fingerprint,
    save_model,
)
from models.report import comparison_text
from service.settings import Settings
from service.store.features import load_matrix
from service.store.model_versions import promoted_model
from service.store.models import ModelVersion, Track, utcnow
from service.store.ratings import effective_ratings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainingData:
    """Rated Bach tracks in a stable order, their features and ratings."""

    track_ids: tuple[str, ...]
    X: Array
    y: Array


@dataclass
class TrainReport:
    """What one training run decided (flat, so the job-run record can store it)."""

    status: str
    """``trained``, ``coldstart`` or ``skipped`` (no ratings)."""
    n_ratings: int
    version: str | None = None
    kind: str | None = None
    promoted: bool = False
    decision: str = ""
    new_score: float | None = None
    current_score: float | None = None
    table: str = ""
    """The comparison table (every candidate's nested metrics) for the CLI."""


def load_training_data(*, session: Session) -> TrainingData:
    """Effective ratings of Bach tracks, sorted by track id so the data fingerprint is stable."""
    ratings = effective_ratings(session=session)
    bach = set(session.scalars(select(Track.id).where(Track.is_bach.is_(True))))
    ids = tuple(sorted(t for t in ratings if t in bach))
    X = (
        load_matrix(session=session, track_ids=ids)
        if ids
        else np.empty((0, len(FEATURE_SCHEMA.columns)))
    )
    y = np.array([ratings[t] for t in ids], dtype=float)
    return TrainingData(ids, X, y)


def model_options(settings: Settings, *, fast: bool = False, augment: bool = False) -> ModelOptions:
    """The settings' model section as the options :mod:`models` takes."""
    return ModelOptions(
        seed=settings.seed,
        outer_splits=settings.cv_splits,
        outer_repeats=settings.cv_repeats,
        n_jobs=settings.train_jobs,
        choose=settings.model,
        fast=fast,
        augment=augment,
    )


def cv_spec(options: ModelOptions) -> str:
    """What makes two nested scores comparable (same folds, same search)."""
    grid = "fast" if options.fast else "default"
    return (
        f"outer={options.outer_splits}x{options.outer_repeats};inner={options.inner_splits};"
        f"seed={options.seed};grid={grid}"
    )


def incumbent_score(
    current: ModelVersion, *, data: TrainingData, data_fp: str, options: ModelOptions
) -> float | None:
    """The current model's nested R2 on this data's outer folds (None: cannot tell)."""
    metrics = current.metrics or {}
    if current.data_fingerprint == data_fp and metrics.get("cv") == cv_spec(options):
        stored = metrics.get("score", metrics.get("r2"))
        return float(stored) if stored is not None else None
    params = current.params or {}
    name = params.get("candidate")
    if not isinstance(name, str):
        return None
    try:
        return evaluate_fixed(
            data.X, data.y, name=name, params=dict(params.get("params") or {}), options=options
        ).r2
    except (ValueError, KeyError, ModelError) as err:
        log.warning("could not re-score model %s on the new data: %s", current.version, err)
        return None


def _register(
    *,
    session: Session,
    settings: Settings,
    model: Any,
    kind: str,
    data_fp: str,
    n: int,
    params: dict[str, Any],
    metrics: dict[str, Any],
    decision: PromotionDecision,
) -> ModelVersion:
    """Save the artifact (with its JSON metadata) and record the version and decision."""
    saved = save_model(
        model,
        models_dir=settings.models_dir,
        kind=kind,
        schema_version=FEATURE_SCHEMA.version,
        columns=FEATURE_SCHEMA.columns,
        data_fingerprint=data_fp,
        metrics=metrics,
        params=params,
        n_ratings=n,
    )
    now = utcnow()
    row = ModelVersion(
        version=saved.version,
        kind=kind,
        created_at=now,
        params=params,
        metrics=metrics,
        artifact_path=str(saved.path),
        sha256=saved.sha256,
        feature_schema=FEATURE_SCHEMA.to_dict(),
        data_fingerprint=data_fp,
        n_ratings=n,
        promoted=decision.promote,
        promoted_at=now if decision.promote else None,
        decision=decision.as_text(),
    )
    if decision.promote:  # at most one model is in use
        session.execute(
            update(ModelVersion).where(ModelVersion.promoted.is_(True)).values(promoted=False)
        )
    session.add(row)
    session.flush()
    return row


def _nan_to_none(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def train_and_register(
    *,
    session: Session,
    settings: Settings,
    spotify: object = None,
    fast: bool = False,
    augment: bool = False,
    progress: Progress | None = None,
) -> TrainReport:
    """Train on the stored ratings, save the artifact, record and maybe promote it."""
    say = progress or (lambda _msg: None)
    data = load_training_data(session=session)
    n = len(data.y)
    if n == 0:
        return TrainReport(status="skipped", n_ratings=0, decision="no ratings yet")
    data_fp = fingerprint(data.X, data.y)
    current = promoted_model(session=session)
    options = model_options(settings, fast=fast, augment=augment)
    needed = max(settings.min_ratings, minimum_samples(options))
    if n < needed:
        say(f"{n} ratings < {needed} needed to train: fitting the cold-start fallback")
        model: Any = fit_coldstart(data.X, data.y, columns=FEATURE_SCHEMA.columns)
        kind, table = "coldstart", ""
        params: dict[str, Any] = {"candidate": "coldstart"}
        metrics: dict[str, Any] = {}
        score = math.nan
    else:
        say(f"training on {n} ratings x {len(FEATURE_SCHEMA.columns)} features (nested CV) ...")
        result: TrainResult = train_model(
            data.X, data.y, options=options, columns=FEATURE_SCHEMA.columns
        )
        model, kind = result.model, result.model.kind
        params = {"candidate": result.model.name, "params": result.model.params}
        metrics = evaluation_metrics(result.evaluation, options)
        table = comparison_text(result.evaluation)
        score = result.score
    incumbent: Incumbent | None = None
    if current is not None:
        cur_score = None
        if current.kind != "coldstart" and kind != "coldstart":
            say(f"comparing with the current model {current.version} on the same folds ...")
            cur_score = incumbent_score(current, data=data, data_fp=data_fp, options=options)
        incumbent = Incumbent(kind=current.kind, score_same_data=cur_score)
    decision = decide_promotion(new_kind=kind, new_score=score, current=incumbent)
    row = _register(
        session=session, settings=settings, model=model, kind=kind, data_fp=data_fp, n=n,
        params=params, decision=decision,
        metrics={**metrics, "current_score": _nan_to_none(decision.current_score)},
    )  # fmt: skip
    log.info("model %s (%s, %d ratings): %s", row.version, kind, n, decision.as_text())
    if (
        not decision.promote
        and current is not None
        and current.data_fingerprint != data_fp
        and decision.current_score is not None
    ):
        kept = _refit_current(
            session=session, settings=settings, current=current, data=data, data_fp=data_fp,
            options=options, new_score=score, say=say,
        )  # fmt: skip
        if kept is not None:
            row, decision = kept
    return TrainReport(
        status="coldstart" if kind == "coldstart" else "trained",
        n_ratings=n,
        version=row.version,
        kind=kind,
        promoted=decision.promote,
        decision=decision.as_text(),
        new_score=_nan_to_none(score),
        current_score=decision.current_score,
        table=table,
    )


def _refit_current(
    *,
    session: Session,
    settings: Settings,
    current: ModelVersion,
    data: TrainingData,
    data_fp: str,
    options: ModelOptions,
    new_score: float,
    say: Progress,
) -> tuple[ModelVersion, PromotionDecision] | None:
    """The configuration in use won on the same folds: refit it on today's ratings.

    The gate keeps the better *configuration*, but the model in use must still
    learn from the ratings that came since, or the playlist stops improving.
    Its score is the one the gate just measured, on the same data and folds.
    """
    params = current.params or {}
    name = params.get("candidate")
    if not isinstance(name, str):
        return None
    say(f"keeping the configuration of {current.version}; refitting it on {len(data.y)} ratings")
    try:
        model, nested = refit_fixed(
            data.X, data.y, name=name, params=dict(params.get("params") or {}),
            kind=current.kind, options=options, columns=FEATURE_SCHEMA.columns,
        )  # fmt: skip
    except (ValueError, KeyError, ModelError) as err:
        log.warning("could not refit the configuration of %s: %s", current.version, err)
        return None
    metrics = {**nested.to_dict(), "score": _nan_to_none(nested.r2), "cv": cv_spec(options)}
    decision = PromotionDecision(
        promote=True,
        reason=f"the configuration in use scored better on the same folds than the new search, "
        f"so it was refit on all {len(data.y)} ratings",
        new_score=_nan_to_none(new_score),
        current_score=_nan_to_none(nested.r2),
    )
    row = _register(
        session=session, settings=settings, model=model, kind=current.kind, data_fp=data_fp,
        n=len(data.y), params=dict(params), metrics=metrics, decision=decision,
    )  # fmt: skip
    log.info("model %s: %s", row.version, decision.as_text())
    return row, decision


def evaluation_metrics(evaluation: Evaluation, options: ModelOptions) -> dict[str, Any]:
    """The JSON stored on the ModelVersion: chosen nested metrics + every candidate's.

    Metrics are rounded for reading; ``score`` keeps the unrounded nested R2 the
    promotion gate compares, so an identical retrain is a tie, not a loss.
    """
    chosen = evaluation.chosen_result
    return {
        **chosen.nested.to_dict(),
        "score": _nan_to_none(chosen.score),
        "std": chosen.nested_std.to_dict(),
        "cv": cv_spec(options),
        "gap": chosen.gap(),
        "candidates": {c.name: c.nested.to_dict() for c in evaluation.candidates.values()},
        "leaky_seed_protocol": evaluation.leaky_seed_protocol.to_dict(),
    }


@dataclass
class EvaluationRun:
    """An evaluation of the stored data without registering anything."""

    data: TrainingData
    result: TrainResult | None
    message: str | None


def evaluate_stored(
    *, session: Session, settings: Settings, fast: bool = False, augment: bool = False
) -> EvaluationRun:
    """``bachbot evaluate`` / ``report``: the same training, nothing saved or promoted."""
    data = load_training_data(session=session)
    options = model_options(settings, fast=fast, augment=augment)
    needed = max(settings.min_ratings, minimum_samples(options))
    if len(data.y) < needed:
        return EvaluationRun(
            data,
            None,
            f"only {len(data.y)} rated Bach tracks; the taste model needs at least "
            f"{needed} (setting min_ratings, and 2 x cv_splits). Until then bachbot scores "
            "tracks by their similarity to your top-rated ones. Like or rate more recordings.",
        )
    return EvaluationRun(
        data, train_model(data.X, data.y, options=options, columns=FEATURE_SCHEMA.columns), None
    )
