"""What bachbot is doing, as one typed snapshot for the status page and ``bachbot status``.

Reads the database only; never calls Spotify, so it answers even when Spotify
or the token does not.  Nothing secret goes in: the database URL has its
password hidden, the token is only "present" with the time it was refreshed.
How the snapshot reads is up to :mod:`service.status_page` (HTML) and
:mod:`service.status_text` (the CLI's sentences and its JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jobs.taste import Taste, taste_of
from models.features.registry import provider_classes
from service.job_sentences import RunRecord
from service.jobrunner import spotify_paused
from service.model_readout import (
    ModelQuality,
    format_score,
    format_spread,
    is_coldstart,
    model_quality,
)
from service.settings import Settings
from service.store.app_state import (
    BOT_PLAYLIST,
    PLAYLIST_RECREATED,
    SPOTIFY_BLOCKED,
    provider_failing,
    provider_unavailable,
)
from service.store.auth_health import TokenHealth, token_health
from service.store.db import hide_password
from service.store.features import Coverage, feature_coverage
from service.store.history import (
    Asked,
    last_publications,
    library_size,
    model_by_version,
    model_history,
    predictions_of,
    recent_runs,
    to_rate_answers,
    tracks_by_id,
)
from service.store.jobruns import last_runs
from service.store.model_versions import promoted_model
from service.store.playlists import unreadable_playlists
from service.store.ratings import effective_ratings
from service.store.tables import ALL_TABLES, JobRun, ModelVersion, Track, utcnow

EARLIER_RUNS = 25
"""Runs listed under "earlier" besides the latest of each job."""
MODEL_HISTORY = 60
"""Model versions in the plot at most (a few weeks of daily retraining)."""

LoginState = Literal["ok", "missing", "revoked"]


@dataclass(frozen=True)
class TrackRef:
    track_id: str
    name: str
    artists: str


@dataclass(frozen=True)
class PlaylistRow:
    position: int
    track: TrackRef
    score: float | None
    score_text: str
    """The score on the listener's scale (see :func:`service.model_readout.format_score`)."""
    spread_text: str | None
    why: tuple[str, ...]
    """Why the track is in the playlist: the features that raised its score most (empty
    for a prediction made before explanations, or one nothing raised)."""
    is_new: bool
    """Added since the previous publish."""


@dataclass(frozen=True)
class PlaylistView:
    name: str
    published_at: datetime
    rows: tuple[PlaylistRow, ...]
    previous_at: datetime | None
    """When the list before this one was published (None: this is the first)."""
    added: tuple[TrackRef, ...]
    removed: tuple[TrackRef, ...]


@dataclass(frozen=True)
class ModelPointView:
    created_at: datetime
    quality: ModelQuality
    ever_used: bool
    current: bool


@dataclass(frozen=True)
class ModelView:
    version: str
    kind: str
    n_ratings: int
    promoted_at: datetime | None
    quality: ModelQuality | None
    history: tuple[ModelPointView, ...]
    """Earlier and current versions scored on the same metric as the one in use."""
    history_other_metric: int
    """Versions left out of the history because they were scored on another metric."""
    raw_metrics: dict[str, object]
    """For ``--json`` only; the page never shows raw metrics."""

    @property
    def coldstart(self) -> bool:
        return is_coldstart(self.kind)


@dataclass(frozen=True)
class LoginView:
    state: LoginState
    refreshed_at: datetime | None
    expires_at: datetime | None
    revoked_reason: str | None
    paused_reason: str | None
    """Why Spotify work waits right now (e.g. Spotify's rate limit), besides a revoked login."""
    logged_in_at: datetime | None = None
    log_in_again_by: datetime | None = None
    """Spotify ends the login then (6 months after ``bachbot auth``)."""


@dataclass(frozen=True)
class UnreadablePlaylist:
    name: str
    owner: str
    reason: str


@dataclass(frozen=True)
class StatusSnapshot:
    now: datetime
    database_url: str
    data_dir: str
    playlist_name: str
    min_ratings: int
    login: LoginView
    playlist: PlaylistView | None
    model: ModelView | None
    latest_runs: tuple[RunRecord, ...]
    """The latest run of each job, newest first."""
    earlier_runs: tuple[RunRecord, ...]
    tracks_known: int
    bach_tracks: int
    ratings: int
    providers: dict[str, str]
    notes: tuple[str, ...]
    unreadable: tuple[UnreadablePlaylist, ...]
    table_counts: dict[str, int]
    """Raw row counts per table: for ``--json`` and nothing a person reads."""
    bot_playlist_id: str | None
    to_rate_name: str = "Bach to rate"
    to_rate_size: int = 0
    """0: "Bach to rate" is turned off."""
    to_rate: Asked | None = None
    """How the listener answered "Bach to rate" (None: not published yet)."""
    taste: Taste | None = None
    """What the model learned and what the listener rated (None: nothing rated yet)."""
    coverage: dict[str, Coverage] = field(default_factory=dict)
    """Per provider, how many known (rated) and new Bach tracks it has described."""


def collect_status(
    *, engine: Engine, settings: Settings, now: datetime | None = None
) -> StatusSnapshot:
    now = now or utcnow()
    with Session(engine) as session:
        latest = last_runs(session=session)
        shown = {run.id for run in latest}
        earlier = [
            run
            for run in recent_runs(session=session, limit=EARLIER_RUNS + len(latest))
            if run.id not in shown
        ][:EARLIER_RUNS]
        health = token_health(session=session)
        # revoked, Spotify's rate limit, or an account-wide 403 (shown until Spotify answers)
        paused = spotify_paused(session=session, now=now) or SPOTIFY_BLOCKED.get(session)
        size = library_size(session=session)
        model = promoted_model(session=session)
        recreated = PLAYLIST_RECREATED.get(session)
        snapshot = StatusSnapshot(
            now=now,
            database_url=hide_password(settings.resolved_database_url),
            data_dir=str(settings.data_dir),
            playlist_name=settings.playlist_name,
            min_ratings=settings.min_ratings,
            login=_login(health, paused),
            playlist=_playlist(session=session, name=settings.playlist_name),
            model=None if model is None else _model(session=session, model=model),
            latest_runs=tuple(_run(run) for run in latest),
            earlier_runs=tuple(_run(run) for run in earlier),
            tracks_known=size.tracks,
            bach_tracks=size.bach_tracks,
            ratings=len(effective_ratings(session=session)),
            providers=provider_status(session=session, settings=settings),
            notes=(str(recreated),) if recreated else (),
            unreadable=tuple(
                UnreadablePlaylist(
                    name=p.name,
                    owner=p.owner_name or p.owner_id or "someone else",
                    reason=p.unreadable_reason or "Spotify does not let bachbot read it",
                )
                for p in unreadable_playlists(session=session)
            ),
            table_counts={
                table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
                for table in ALL_TABLES
            },
            bot_playlist_id=_bot_playlist_id(session=session),
            to_rate_name=settings.to_rate_name,
            to_rate_size=settings.to_rate_size,
            to_rate=to_rate_answers(session=session),
            taste=_taste(session=session, settings=settings),
            coverage=feature_coverage(
                session=session, versions={k.name: k.schema_version for k in provider_classes()}
            ),
        )
    return snapshot


def _taste(*, session: Session, settings: Settings) -> Taste | None:
    taste = taste_of(session=session, settings=settings)
    said = taste.loved_works or taste.unloved_works or taste.loved_performers
    return taste if taste.features or said or taste.unloved_performers else None


def _login(health: TokenHealth, paused: str | None) -> LoginView:
    state: LoginState = (
        "revoked" if health.revoked_reason else ("ok" if health.present else "missing")
    )
    return LoginView(
        state=state,
        refreshed_at=health.refreshed_at,
        expires_at=health.expires_at,
        revoked_reason=health.revoked_reason,
        paused_reason=None if health.revoked_reason else paused,
        logged_in_at=health.logged_in_at,
        log_in_again_by=health.log_in_again_by,
    )


def _bot_playlist_id(*, session: Session) -> str | None:
    return BOT_PLAYLIST.get(session)


def provider_status(*, session: Session, settings: Settings) -> dict[str, str]:
    """One line per registered feature provider: on (and what it sends elsewhere), off,
    or unavailable for this app since when and why; then whether it is failing."""
    status: dict[str, str] = {}
    for kind in provider_classes():
        unavailable = provider_unavailable(kind.name).get(session)
        if unavailable is not None:
            line = f"unavailable for this app since {unavailable.since}"
            line += f": {unavailable.reason}" if unavailable.reason else ""
        elif not kind.enabled(settings):
            line = "off"
        else:
            line = f"on ({kind.status_note})" if kind.status_note else "on"
        failing = provider_failing(kind.name).get(session)
        if failing is not None:
            line += f"; failing: {failing.error}"
        status[kind.name] = line
    return status


def _run(row: JobRun) -> RunRecord:
    return RunRecord(
        job=row.job,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=dict(row.counts or {}),
        error=row.error,
    )


def _ref(track_id: str, tracks: dict[str, Track]) -> TrackRef:
    track = tracks.get(track_id)
    if track is None:
        return TrackRef(track_id, track_id, "")
    artists = ", ".join(str(a.get("name", "")) for a in track.artists if isinstance(a, dict))
    return TrackRef(track_id, track.name, artists)


def _playlist(*, session: Session, name: str) -> PlaylistView | None:
    latest, previous = last_publications(session=session)
    if latest is None:
        return None
    now_ids = [str(t) for t in latest.track_ids]
    before_ids = [] if previous is None else [str(t) for t in previous.track_ids]
    added = [t for t in now_ids if previous is not None and t not in set(before_ids)]
    removed = [t for t in before_ids if t not in set(now_ids)]
    tracks = tracks_by_id(session=session, track_ids={*now_ids, *removed})
    model = (
        None
        if latest.model_version is None
        else model_by_version(session=session, version=latest.model_version)
    )
    scores = (
        {}
        if model is None
        else predictions_of(session=session, model_version_id=model.id, track_ids=now_ids)
    )
    coldstart = model is not None and is_coldstart(model.kind)
    rows = []
    for position, track_id in enumerate(now_ids, start=1):
        prediction = scores.get(track_id)
        score = None if prediction is None else prediction.score
        if coldstart:
            text, spread = "close to your likes", None
        elif score is None:
            text, spread = "no score", None
        else:
            text = format_score(score)
            spread = format_spread(score, None if prediction is None else prediction.uncertainty)
        rows.append(
            PlaylistRow(
                position=position,
                track=_ref(track_id, tracks),
                score=score,
                score_text=text,
                spread_text=spread,
                why=short_reasons(None if prediction is None else prediction.explanation),
                is_new=track_id in added,
            )
        )
    return PlaylistView(
        name=name,
        published_at=latest.created_at,
        rows=tuple(rows),
        previous_at=None if previous is None else previous.created_at,
        added=tuple(_ref(t, tracks) for t in added),
        removed=tuple(_ref(t, tracks) for t in removed),
    )


SHORT_REASONS = 2
"""Reasons shown beside a track on the status page (``bachbot explain`` gives all)."""


def short_reasons(explanation: dict[str, object] | None) -> tuple[str, ...]:
    """The reasons that raised a track's score most, in words (empty: not explained)."""
    reasons = (explanation or {}).get("reasons")
    if not isinstance(reasons, list):
        return ()
    raised = [r for r in reasons if isinstance(r, dict) and float(r.get("effect", 0)) > 0]
    if raised:
        return tuple(str(r["text"]) for r in raised[:SHORT_REASONS])
    near = (explanation or {}).get("neighbours")
    if isinstance(near, list) and near and isinstance(near[0], dict):
        return (f"close to “{near[0]['name']}” (you rated it {float(near[0]['rating']):g})",)
    return ()


def _model(*, session: Session, model: ModelVersion) -> ModelView:
    quality = model_quality(model.metrics)
    history: list[ModelPointView] = []
    other = 0
    for version in model_history(session=session, limit=MODEL_HISTORY):
        point = model_quality(version.metrics)
        if point is None:
            continue
        if quality is not None and point.metric != quality.metric:
            other += 1
            continue
        history.append(
            ModelPointView(
                created_at=version.created_at,
                quality=point,
                ever_used=version.promoted_at is not None,
                current=version.id == model.id,
            )
        )
    return ModelView(
        version=model.version,
        kind=model.kind,
        n_ratings=model.n_ratings,
        promoted_at=model.promoted_at,
        quality=quality,
        history=tuple(history) if quality is not None else (),
        history_other_metric=other,
        raw_metrics=dict(model.metrics or {}),
    )
