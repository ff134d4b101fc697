"""``bachbot demo``: the whole loop, offline, in fast time.

Starts the local Spotify with a generated Bach catalogue (audio descriptors
simulated and labelled so) in 2026 "new app" mode, so audio features come
from the ReccoBeats-compatible endpoint exactly as for a real new app.  A
simulated listener (:mod:`service.demo_listener`) has a hidden taste, likes a
few tracks by hand, and then reacts to every playlist bachbot publishes.  Each
cycle runs the real jobs (sync, features, train, score, publish) through the
same :class:`service.cycle.Cycle` the daemon uses; only the clock is fast.

Nothing here is a demo-only path through the product: the data lands in a
real database under ``DATA_DIR/demo/run-N``, the model in its registry, and
the playlist in the local Spotify, where ``bachbot status`` and the status
page can look at them.

The demo never deletes what it did not create: each run gets a new
``run-N`` folder (earlier runs stay for a look), the demo folder is marked as
the demo's own, a folder holding anything else is refused untouched, and
``--fresh`` removes only earlier demo runs.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.model_report import write_report
from models.catalogue_demo import BACH_ID, DemoTrack
from service.demo_folders import new_run_dir
from service.demo_listener import HiddenTaste, react, share_loved
from service.demo_world import LISTENER, START, ListenerWorld, log_in
from service.settings import Settings
from service.spotify_sim import SpotifySim
from service.store.app_state import BOT_PLAYLIST
from service.store.db import transaction
from service.store.model_versions import promoted_model
from service.store.ratings import add_rating, effective_ratings
from service.store.tables import ModelVersion, Prediction, Track
from service.wiring import wire

log = logging.getLogger(__name__)


@dataclass
class CycleFigures:
    cycle: int
    ratings: int
    model: str | None
    model_kind: str | None
    nested_auc: float | None
    """Nested ROC AUC of the model in use (None for the cold start)."""
    gate: str | None
    """The promotion gate's decision if this cycle retrained, in words."""
    published: int
    loved_share: float | None
    random_share: float | None
    liked: int
    removed: int


@dataclass
class DemoResult:
    seed: int
    data_dir: str
    catalogue_tracks: int
    simulated_audio: bool = True
    cycles: list[CycleFigures] = field(default_factory=list)
    playlist: list[dict[str, Any]] = field(default_factory=list)
    report_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def demo_settings(base: Settings, sim: SpotifySim, data_dir: Path) -> Settings:
    """The user's settings, pointed at the local Spotify and sized for a fast demo."""
    return sim.settings_for(
        base,
        data_dir=data_dir,
        database_url=None,
        composer_artist_ids=[BACH_ID],
        calls_per_cycle=2000,
        cv_splits=3,
        cv_repeats=1,
        min_ratings=12,
        retrain_after_ratings=1,
        # The listener plays the playlist every cycle: a track heard twice and neither
        # liked nor removed becomes a weak negative, as BACHBOT_EXPOSURE_NEGATIVE does.
        exposure_negative=True,
        exposure_plays=2,
        playlist_size=20,
        playlist_min_probability=0.0,
        max_per_work=2,
    )


Progress = Callable[[str], None]


def run_demo(
    base: Settings,
    *,
    cycles: int = 6,
    seed: int = 0,
    n_albums: int = 60,
    data_dir: Path | None = None,
    fresh: bool = False,
    progress: Progress = lambda _line: None,
) -> DemoResult:
    """Run ``cycles`` cycles against a fresh local Spotify; returns the per-cycle figures."""
    world = ListenerWorld.generate(n_albums=n_albums, seed=seed)
    tracks, taste = world.tracks, world.taste
    target = new_run_dir(
        data_dir or base.data_dir / "demo", fresh=fresh, given=data_dir is not None
    )
    result = DemoResult(seed=seed, data_dir=str(target), catalogue_tracks=len(tracks))
    progress(
        f"local Spotify with {len(tracks)} generated recordings, behaving as Spotify does for "
        "a new app (no audio features; simulated ReccoBeats descriptors instead); "
        f"data in {target}"
    )
    clock = [START]
    with (
        world.serve() as sim,
        _quiet_about_the_simulated_spotify(),
    ):
        settings = demo_settings(base, sim, target)
        with httpx.Client(timeout=10) as http:
            wiring = wire(settings, clock=lambda: clock[0], http_client=http)
            log_in(sim, wiring.tokens)
            sessions = wiring.sessions
            cycle = wiring.cycle(train_fast=True)
            _rate_by_hand(sessions, tracks, taste, seed=seed, clock=clock[0])
            for number in range(1, cycles + 1):
                clock[0] = START + timedelta(minutes=30 * number)
                before = _latest_version_id(sessions)
                cycle.run_once()
                figures = _observe(number, sessions, sim, tracks, taste, before)
                published = _published(sessions, sim)
                for i, track_id in enumerate(published):  # the listener plays the playlist
                    sim.state.play(LISTENER, track_id, clock[0] + timedelta(minutes=1 + i))
                reaction = react(published, tracks=tracks, taste=taste)
                for track_id in reaction.like:
                    sim.state.like(LISTENER, track_id, clock[0] + timedelta(minutes=5))
                bot = _bot_playlist(sessions)
                for track_id in reaction.remove:
                    if bot:
                        sim.state.remove_from_playlist(bot, track_id)
                figures.liked, figures.removed = len(reaction.like), len(reaction.remove)
                result.cycles.append(figures)
                progress(_line(figures))
                if figures.gate:
                    progress(f"  retrain: {figures.gate}")
            result.playlist = _playlist_listing(sessions, sim, tracks, taste)
            progress("writing the model report ...")
            with transaction(sessions) as session:
                written = write_report(session=session, settings=settings, fast=True)
            result.report_path = str(written.path)
        wiring.dispose()
    return result


def _rate_by_hand(
    sessions: sessionmaker[Session],
    tracks: dict[str, DemoTrack],
    taste: HiddenTaste,
    *,
    seed: int,
    clock: datetime,
) -> None:
    """The listener rates a few tracks they know, low and high, before the first cycle.

    These go in through the same rating events ``bachbot rate`` writes.
    """
    rng = random.Random(seed + 1)
    sample = rng.sample(sorted(tracks), k=min(12, len(tracks)))
    with transaction(sessions) as session:
        for track_id in sample:
            track = tracks[track_id]
            if session.get(Track, track_id) is None:
                session.add(Track(id=track_id, name=track.name, is_bach=True, source="demo"))
                session.flush()
            add_rating(
                session=session,
                track_id=track_id,
                value=round(taste.score(track)),
                source="explicit",
                created_at=clock,
            )


def _bot_playlist(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as session:
        return BOT_PLAYLIST.get(session)


def _published(sessions: sessionmaker[Session], sim: SpotifySim) -> list[str]:
    bot = _bot_playlist(sessions)
    return [] if bot is None else sim.state.playlist_track_ids(bot)


def _latest_version_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        latest = session.scalars(select(ModelVersion.id).order_by(ModelVersion.id.desc())).first()
    return latest or 0


def _observe(
    number: int,
    sessions: sessionmaker[Session],
    sim: SpotifySim,
    tracks: dict[str, DemoTrack],
    taste: HiddenTaste,
    before: int,
) -> CycleFigures:
    published = _published(sessions, sim)
    with sessions() as session:
        ratings = effective_ratings(session=session)
        model: ModelVersion | None = promoted_model(session=session)
        known = set(session.scalars(select(Track.id)))
        new = session.scalars(
            select(ModelVersion).where(ModelVersion.id > before).order_by(ModelVersion.id)
        ).all()
        gate = "; then ".join(v.decision for v in new if v.decision) or None
    unrated = [t for t in tracks if t in known and t not in ratings]
    auc = None if model is None else (model.metrics or {}).get("score")
    return CycleFigures(
        cycle=number,
        ratings=len(ratings),
        model=None if model is None else model.version,
        model_kind=None if model is None else model.kind,
        nested_auc=auc if isinstance(auc, int | float) else None,
        gate=gate,
        published=len(published),
        loved_share=share_loved(published, tracks=tracks, taste=taste),
        random_share=share_loved(unrated, tracks=tracks, taste=taste),
        liked=0,
        removed=0,
    )


def _pct(value: float | None) -> str:
    return "  –  " if value is None else f"{value:5.0%}"


def _line(f: CycleFigures) -> str:
    auc = "  –  " if f.nested_auc is None else f"{f.nested_auc:5.2f}"
    return (
        f"cycle {f.cycle}: {f.ratings:3d} ratings | model {f.model_kind or 'none':9s} "
        f"nested ROC AUC {auc} | published {f.published:2d}, loved {_pct(f.loved_share)} "
        f"vs random pick {_pct(f.random_share)} | listener liked {f.liked}, removed {f.removed}"
    )


def _playlist_listing(
    sessions: sessionmaker[Session],
    sim: SpotifySim,
    tracks: dict[str, DemoTrack],
    taste: HiddenTaste,
) -> list[dict[str, Any]]:
    rows = []
    published = _published(sessions, sim)
    with sessions() as session:
        model = promoted_model(session=session)
        rows_scored = (
            []
            if model is None
            else session.execute(
                select(Prediction.track_id, Prediction.score).where(
                    Prediction.model_version_id == model.id,
                    Prediction.track_id.in_(published),
                )
            ).all()
        )
        scores = {row.track_id: row.score for row in rows_scored}
    for track_id in published:
        track = tracks.get(track_id)
        if track is not None:
            predicted = scores.get(track_id)
            rows.append(
                {
                    "track_id": track_id,
                    "name": track.name,
                    "predicted": None if predicted is None else round(float(predicted), 3),
                    "loved": taste.loves(track),
                    "hidden_taste": round(taste.score(track), 1),
                }
            )
    return rows


class _SimulatedSpotifyNote(logging.Filter):
    """Drops the real-Spotify advice about audio features: here the refusal is simulated."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "refused audio-features" not in record.getMessage()


@contextmanager
def _quiet_about_the_simulated_spotify() -> Iterator[None]:
    note = _SimulatedSpotifyNote()
    logger = logging.getLogger("jobs.features")
    logger.addFilter(note)
    try:
        yield
    finally:
        logger.removeFilter(note)
