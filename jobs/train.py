"""The train job: learn how likely the listener loves a track, and decide what is in use.

Reads the effective ratings (:mod:`jobs.training_data`); with enough loved and
not-loved tracks it evaluates every model family by nested cross-validation
and trains the configured one (:mod:`models.evaluate`), otherwise it fits the
cold start (similarity to what was loved and removed).  The promotion gate
(:mod:`models.gate`) then scores the new model and the one in use the same
way on the same folds of today's ratings and promotes the new one unless it
is worse beyond the margin; when the one in use wins, its configuration is
refit on today's ratings, so the model in use always learns from every
rating.  Each artifact is saved with its metadata and recorded as a
``ModelVersion`` with the decision in words.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import update
from sqlalchemy.orm import Session

from jobs.training_data import TrainingData, load_training_data
from models.candidates import Config
from models.coldstart import ColdStartClassifier
from models.errors import ModelError, NotEnoughData
from models.evaluate import Evaluation, TrainResult, fit_fixed, train_model
from models.folds import choose_grouping
from models.gate import GateDecision, Holdout, compare, decide, first, holdout, same
from models.matrix import feature_schema
from models.metrics import clean
from models.options import ModelOptions
from models.pipeline import TasteModel, quiet_fit
from models.registry import fingerprint, load_model, save_model
from models.report import comparison_text
from service.datadir import prepare_data_dir
from service.settings import Settings
from service.store.model_versions import promoted_model
from service.store.tables import ModelVersion, utcnow

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
COLDSTART = Config.of("coldstart")


@dataclass
class TrainReport:
    """What one training run decided (flat, so the job-run record can store it)."""

    status: str
    """``trained``, ``coldstart`` or ``skipped`` (no ratings)."""
    n_ratings: int
    n_loved: int = 0
    version: str | None = None
    kind: str | None = None
    promoted: bool = False
    decision: str = ""
    outcome: str | None = None
    new_score: float | None = None
    """Nested ROC AUC of the new model (None for the cold start)."""
    current_score: float | None = None
    diff: float | None = None
    diff_se: float | None = None
    table: str = ""
    """The comparison table (every family's nested metrics) for the CLI."""


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
        playlist_size=settings.playlist_size,
    )


def cv_spec(options: ModelOptions, n: int) -> str:
    grid = "fast" if options.fast else "default"
    repeats = options.outer_repeats if options.outer_repeats is not None else "auto"
    return (
        f"outer={options.outer_splits}x{repeats};inner={options.inner_splits};"
        f"seed={options.seed};grid={grid};n={n}"
    )


@dataclass(frozen=True)
class Candidate:
    """A model ready to be recorded: the artifact, what it is, and the gate's word on it."""

    model: TasteModel
    params: dict[str, Any]
    """``candidate`` (what was asked for) and ``config`` (what the gate can rebuild)."""
    metrics: dict[str, Any]
    decision: GateDecision
    text: str | None = None
    """The decision in words, when it says more than ``decision.as_text()``."""


def _register(
    session: Session, settings: Settings, data: TrainingData, candidate: Candidate
) -> ModelVersion:
    """Save the artifact (with its JSON metadata) and record the version and decision."""
    model, params, metrics, decision = (
        candidate.model, candidate.params, candidate.metrics, candidate.decision
    )  # fmt: skip
    data_fp = fingerprint(data.X, data.labels.relevance)
    schema = feature_schema()
    prepare_data_dir(settings.data_dir)  # 0700 on PostgreSQL too, where nothing else makes it
    saved = save_model(
        model,
        models_dir=settings.models_dir,
        kind=model.kind,
        schema_version=schema.version,
        columns=schema.columns,
        data_fingerprint=data_fp,
        metrics=metrics,
        params=params,
        n_ratings=data.n,
    )
    now = utcnow()
    row = ModelVersion(
        version=saved.version,
        kind=model.kind,
        created_at=now,
        params=params,
        metrics=metrics,
        artifact_path=str(saved.path),
        sha256=saved.sha256,
        feature_schema=schema.to_dict(),
        data_fingerprint=data_fp,
        n_ratings=data.n,
        promoted=decision.promote,
        promoted_at=now if decision.promote else None,
        decision=candidate.text or decision.as_text(),
    )
    if decision.promote:  # at most one model is in use
        session.execute(
            update(ModelVersion).where(ModelVersion.promoted.is_(True)).values(promoted=False)
        )
    session.add(row)
    session.flush()
    return row


def evaluation_metrics(evaluation: Evaluation, options: ModelOptions) -> dict[str, Any]:
    """The JSON stored on the ModelVersion: the chosen family's nested numbers and the rest.

    ``score`` is the primary number (nested ROC AUC) and ``metric`` its name;
    the status page and the report read those two.
    """
    chosen = evaluation.chosen_result
    out: dict[str, Any] = {
        "metric": "roc_auc",
        "score": clean(chosen.score, 6),
        "score_sd": clean(chosen.summary["roc_auc"].sd),
        **{name: clean(s.mean) for name, s in chosen.summary.items()},
        "cv": cv_spec(options, evaluation.n_samples),
        "grouping": evaluation.grouping.name,
        "n_loved": evaluation.n_positive,
        "candidates": {f.name: clean(f.score) for f in evaluation.families.values()},
    }
    if evaluation.calibration is not None:
        out["calibration_ece"] = clean(evaluation.calibration.ece)
    if evaluation.study is not None:
        out["study_r2"] = clean(evaluation.study.nested["r2"].mean)
    return out


@dataclass(frozen=True)
class InUse:
    """The model in use as the gate sees it: from its ``ModelVersion`` row, or a replay's memory."""

    kind: str
    candidate: str
    """What was asked for when it was trained (``mlp``, ``auto``, ``coldstart``)."""
    config: Config | None
    """Its configuration, when it is one the gate can rebuild."""
    n_ratings: int
    rating_cut: int | None
    """The newest rating event it saw (for the hold-out of what came after)."""
    load: Callable[[], TasteModel] | None = None
    """The fitted model itself, for the hold-out (None: no hold-out)."""


def in_use_of(row: ModelVersion, *, columns: Sequence[str]) -> InUse:
    """The gate's view of a recorded model version (the artifact is loaded only if needed)."""
    params = row.params or {}
    config: Config | None = None
    raw = params.get("config")
    if isinstance(raw, dict):
        try:
            config = Config.from_dict(raw)
        except ValueError:
            config = None
    cut = (row.metrics or {}).get("rating_cut")
    path, sha256 = row.artifact_path, row.sha256

    def load() -> TasteModel:
        schema = feature_schema()
        model: TasteModel = load_model(
            Path(path or ""), schema_version=schema.version, columns=tuple(columns),
            expected_sha256=sha256,
        )  # fmt: skip
        return model

    return InUse(
        kind=row.kind,
        candidate=str(params.get("candidate", "mlp")),
        config=config,
        n_ratings=row.n_ratings,
        rating_cut=cut if isinstance(cut, int) else None,
        load=load if path else None,
    )


def in_use_after(candidate: Candidate, *, n_ratings: int) -> InUse:
    """The gate's view of a model just decided on (a replay keeps it in memory)."""
    cut = candidate.metrics.get("rating_cut")
    model = candidate.model
    return InUse(
        kind=model.kind,
        candidate=str(candidate.params.get("candidate", model.name)),
        config=Config.from_dict(candidate.params["config"]),
        n_ratings=n_ratings,
        rating_cut=cut if isinstance(cut, int) else None,
        load=lambda: model,
    )


def _holdout(
    current: InUse, data: TrainingData, new: Config, options: ModelOptions
) -> Holdout | None:
    """Both models on the ratings that arrived after the model in use was trained."""
    if current.rating_cut is None or current.load is None:
        return None
    after = data.event_ids > current.rating_cut
    if int(after.sum()) < 10:
        return None
    try:
        model = current.load()
        with quiet_fit():
            prob, _ = model.predict_with_uncertainty(data.X[after])
    except (ModelError, AttributeError, ValueError) as err:
        log.info("hold-out check skipped: %s", err)
        return None
    y = data.labels.loved
    return holdout(
        np.asarray(prob), data.X[~after], y[~after], data.X[after], y[after], new=new,
        options=options,
    )  # fmt: skip


def _coldstart(data: TrainingData, columns: Sequence[str]) -> TasteModel:
    with quiet_fit():
        final = ColdStartClassifier().fit(data.X, data.labels.loved)
    return TasteModel(
        name="coldstart",
        kind="coldstart",
        config=COLDSTART.to_dict(),
        final=final,
        columns=tuple(columns),
    )


def coldstart_reason(data: TrainingData, settings: Settings, err: NotEnoughData | None) -> str:
    """Why there is no trained model yet, in the listener's terms."""
    if data.labels.n_negative == 0:
        return (
            f"only likes so far ({data.n}): bachbot ranks tracks by similarity to your likes "
            "until a removal or a rating below "
            f"{settings.love_threshold:g} shows what you do not love"
        )
    if data.n < settings.min_ratings:
        return (
            f"{data.n} ratings, fewer than the {settings.min_ratings} needed to train "
            "(BACHBOT_MIN_RATINGS): ranking by similarity to what you loved and removed"
        )
    return f"{err}: ranking by similarity to what you loved and removed"


@dataclass
class Trained:
    """What one training run decided, before anything is saved.

    ``recorded`` are the models to record, in order: the new one, and when
    the gate kept the configuration in use, that configuration refit on
    today's ratings (the one then in use).  The daemon saves and records
    them (:func:`train_and_register`); the replay keeps them in memory.
    """

    recorded: list[Candidate]
    report: TrainReport

    @property
    def in_use(self) -> Candidate | None:
        """The recorded model that is in use after this run (None: the old one stays)."""
        promoted = [c for c in self.recorded if c.decision.promote]
        return promoted[-1] if promoted else None


def decide_training(
    data: TrainingData,
    current: InUse | None,
    *,
    settings: Settings,
    options: ModelOptions,
    columns: Sequence[str],
    progress: Progress | None = None,
    detail: Progress | None = None,
) -> Trained:
    """The train job's decisions, free of the database: cold start or nested CV, then the gate.

    ``progress`` hears each step worth a line; ``detail`` the folds as they finish.
    """
    say = progress or (lambda _msg: None)
    if data.n == 0:
        return Trained([], TrainReport(status="skipped", n_ratings=0, decision="no ratings yet"))
    rating_cut = int(data.event_ids.max())
    result: TrainResult | None = None
    reason_cold: NotEnoughData | None = None
    if data.n >= settings.min_ratings and data.labels.n_negative > 0:
        say(
            f"training on {data.n} ratings ({data.labels.n_positive} loved) x "
            f"{len(columns)} features (nested CV) ..."
        )
        try:
            result = train_model(
                data.X, data.labels, options=options, columns=columns,
                groupings=data.groupings, progress=detail,
            )  # fmt: skip
        except NotEnoughData as err:
            reason_cold = err
    if result is None:
        return _decide_coldstart(settings, data, current, rating_cut, reason_cold, columns, say)
    return _decide_trained(data, current, result, options, rating_cut, columns, say)


def _decide_coldstart(
    settings: Settings,
    data: TrainingData,
    current: InUse | None,
    rating_cut: int,
    err: NotEnoughData | None,
    columns: Sequence[str],
    say: Progress,
) -> Trained:
    why = coldstart_reason(data, settings, err)
    say(why)
    model = _coldstart(data, columns)
    if current is None or current.kind == "coldstart" or current.config is None:
        decision = first(f"cold start with your latest ratings ({why})")
    else:
        decision = GateDecision(
            False,
            "coldstart",
            "too few loved and not-loved ratings to compare with the model in use, so it "
            f"stays ({why})",
        )
    metrics = {"metric": "roc_auc", "score": None, "rating_cut": rating_cut, "why": why,
               "n_loved": data.labels.n_positive}  # fmt: skip
    params = {"candidate": "coldstart", "config": COLDSTART.to_dict()}
    report = TrainReport(
        status="coldstart",
        n_ratings=data.n,
        n_loved=data.labels.n_positive,
        kind="coldstart",
        promoted=decision.promote,
        decision=decision.as_text(),
        outcome=decision.outcome,
    )
    return Trained([Candidate(model, params, metrics, decision)], report)


def _decide_trained(
    data: TrainingData,
    current: InUse | None,
    result: TrainResult,
    options: ModelOptions,
    rating_cut: int,
    columns: Sequence[str],
    say: Progress,
) -> Trained:
    evaluation = result.evaluation
    new_config = evaluation.final_config
    assert new_config is not None  # train_model always sets it
    in_use = None if current is None else current.config
    decision: GateDecision
    if current is None:
        decision = first()
    elif in_use is None:
        decision = first("the model in use predates this kind of model and cannot be compared")
    elif in_use == new_config:
        decision = same(data.n)
    else:
        say(f"comparing with the model in use ({in_use.key}) on the same folds ...")
        comparison = compare(
            data.X, data.labels.loved, result.grouping, new=new_config, current=in_use,
            options=options,
        )  # fmt: skip
        decision = decide(
            comparison, new_n=data.n, current_n=current.n_ratings, margin_se=options.gate_margin_se
        )
        decision = decision.with_holdout(_holdout(current, data, new_config, options))
    metrics = {
        **evaluation_metrics(evaluation, options),
        "gate": decision.to_dict(),
        "rating_cut": rating_cut,
    }
    params = {
        "candidate": result.model.name,
        "config": new_config.to_dict(),
        "params_by_fold": evaluation.chosen_result.choices(),
    }
    recorded = [Candidate(result.model, params, metrics, decision)]
    if not decision.promote and current is not None and in_use is not None:
        recorded.append(
            _refit_in_use(data, current, in_use, options, decision, rating_cut, columns)
        )
    c = decision.comparison
    report = TrainReport(
        status="trained",
        n_ratings=data.n,
        n_loved=data.labels.n_positive,
        kind=result.model.kind,
        promoted=decision.promote,
        decision=decision.as_text(),
        outcome=decision.outcome,
        new_score=clean(evaluation.score),
        current_score=None if c is None else clean(c.current.mean),
        diff=None if c is None else clean(c.diff.mean),
        diff_se=None if c is None else clean(c.diff.se),
        table=comparison_text(evaluation),
    )
    return Trained(recorded, report)


def _refit_in_use(
    data: TrainingData,
    current: InUse,
    config: Config,
    options: ModelOptions,
    decision: GateDecision,
    rating_cut: int,
    columns: Sequence[str],
) -> Candidate:
    """The configuration in use won: refit it on today's ratings so it keeps learning."""
    grouping = choose_grouping(data.labels.loved, data.groupings, n_splits=options.outer_splits)
    if config.family == "coldstart":
        model = _coldstart(data, columns)
        fold_aucs: list[float] = []
    else:
        model, fold_aucs = fit_fixed(
            data.X, data.labels, config, name=current.candidate, options=options,
            columns=columns, grouping=grouping,
        )  # fmt: skip
    c = decision.comparison
    score = c.current.mean if c is not None else float(np.nanmean(fold_aucs or [math.nan]))
    text = (
        f"kept the configuration in use ({config.key}), refit on all {data.n} ratings: "
        f"{decision.as_text().removeprefix('kept the model in use: ')}"
    )
    keep = GateDecision(True, decision.outcome, text, c, decision.margin, decision.holdout)
    metrics = {
        "metric": "roc_auc",
        "score": clean(score, 6),
        "cv": cv_spec(options, data.n),
        "grouping": grouping.name,
        "gate": keep.to_dict(),
        "rating_cut": rating_cut,
        "n_loved": data.labels.n_positive,
    }
    params = {"candidate": current.candidate, "config": config.to_dict()}
    return Candidate(model, params, metrics, keep, text)


def train_and_register(
    *,
    session: Session,
    settings: Settings,
    fast: bool = False,
    augment: bool = False,
    progress: Progress | None = None,
    detail: Progress | None = None,
) -> TrainReport:
    """Train on the stored ratings (:func:`decide_training`), save and record what it decided.

    ``progress`` hears each step worth a line; ``detail`` the folds as they finish.
    """
    data = load_training_data(session=session, settings=settings)
    columns = feature_schema().columns
    row = promoted_model(session=session)
    current = None if row is None else in_use_of(row, columns=columns)
    trained = decide_training(
        data, current, settings=settings, options=model_options(settings, fast=fast,
        augment=augment), columns=columns, progress=progress, detail=detail,
    )  # fmt: skip
    report = trained.report
    for candidate in trained.recorded:
        recorded = _register(session, settings, data, candidate)
        log.info(
            "model %s (%s, %d ratings): %s", recorded.version, recorded.kind, data.n,
            recorded.decision,
        )  # fmt: skip
        report.version, report.kind = recorded.version, recorded.kind
    return report


@dataclass
class EvaluationRun:
    """An evaluation of the stored data without registering anything."""

    data: TrainingData
    result: TrainResult | None
    message: str | None


def evaluate_stored(
    *,
    session: Session,
    settings: Settings,
    fast: bool = False,
    augment: bool = False,
    progress: Progress | None = None,
) -> EvaluationRun:
    """``bachbot evaluate`` / ``report``: the same training, nothing saved or promoted."""
    data = load_training_data(session=session, settings=settings)
    options = model_options(settings, fast=fast, augment=augment)
    if data.n < settings.min_ratings or data.labels.n_negative == 0:
        return EvaluationRun(data, None, coldstart_reason(data, settings, None))
    try:
        result = train_model(
            data.X, data.labels, options=options, columns=feature_schema().columns,
            groupings=data.groupings, progress=progress,
        )  # fmt: skip
    except NotEnoughData as err:
        return EvaluationRun(data, None, coldstart_reason(data, settings, err))
    return EvaluationRun(data, result, None)
