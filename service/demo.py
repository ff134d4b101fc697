"""``bachbot demo``: the whole loop, offline, in fast time.

Starts the local Spotify with a generated Bach catalogue (audio descriptors
simulated and labelled so) in 2026 "new app" mode, so audio features come
from the ReccoBeats-compatible endpoint exactly as for a real new app, and the
local Deezer (:mod:`service.deezer_sim`) beside it, whose previews of the
catalogue's ISRCs are generated chords the preview provider analyses.  A
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
import math
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

from jobs.feature_matrix import load_matrix
from jobs.model_report import write_report
from jobs.replay import nearest_order
from models.catalogue_demo import BACH_ID, DemoTrack
from models.typicality import standardised
from service.deezer_sim import DeezerSim
from service.deezer_sim.catalogue import deezer_tracks
from service.demo_folders import new_run_dir
from service.demo_listener import HiddenTaste, react, share_loved
from service.demo_world import LISTENER, START, ListenerWorld, log_in
from service.settings import Settings
from service.spotify_sim import SpotifySim
from service.store.app_state import BOT_PLAYLIST, TO_RATE_PLAYLIST, Slot
from service.store.db import transaction
from service.store.model_versions import promoted_model
from service.store.ratings import add_rating, effective_ratings, liked_track_ids
from service.store.tables import ModelVersion, Prediction, Track
from service.wiring import wire

log = logging.getLogger(__name__)

DEMO_PREVIEW_S = 5.0
"""The local Deezer's previews in the demo: a sixth of Deezer's 30 s, so generating and
analysing a thousand of them costs about a minute of CPU, not six (the bench measures
full-length previews)."""


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
    nn_share: float | None = None
    """The same number of tracks nearest to the likes so far: the ranker to beat."""
    loved: int = 0
    nn_loved: int = 0
    random_loved: float = 0.0
    """Expected loved tracks in a random pick of the same size."""
    asked: int = 0
    """Tracks in "Bach to rate" this cycle."""
    answered: int = 0


@dataclass(frozen=True)
class Share:
    """Loved tracks among published ones, with a 95 % Wilson interval."""

    loved: float
    published: int
    low: float
    high: float

    @classmethod
    def of(cls, loved: float, published: int) -> Share:
        if published == 0:
            return cls(loved, 0, 0.0, 1.0)
        z, n = 1.959964, published
        p = loved / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return cls(loved, n, max(0.0, centre - half), min(1.0, centre + half))

    @property
    def share(self) -> float:
        return self.loved / self.published if self.published else 0.0

    def text(self) -> str:
        return f"{self.share:.0%} [{self.low:.0%}-{self.high:.0%}]"


@dataclass
class DemoResult:
    seed: int
    data_dir: str
    catalogue_tracks: int
    simulated_audio: bool = True
    cycles: list[CycleFigures] = field(default_factory=list)
    playlist: list[dict[str, Any]] = field(default_factory=list)
    report_path: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    """Loved share over the last cycles: bachbot, nearest-neighbour, random (95 % intervals)."""

    def summarise(self, last: int = 3) -> dict[str, Any]:
        tail = self.cycles[-last:]
        published = sum(c.published for c in tail)
        shares = {
            "bachbot": Share.of(sum(c.loved for c in tail), published),
            "nearest_neighbour": Share.of(sum(c.nn_loved for c in tail), published),
            "random": Share.of(sum(c.random_loved for c in tail), published),
        }
        self.summary = {"cycles": len(tail), **{k: asdict(v) for k, v in shares.items()}}
        return shares

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
    from models.features.audio import prepare_numba_cache

    # In the data dir, not in the run's folder: compiled once for every demo run.
    prepare_numba_cache(base.data_dir / "cache" / "numba")
    world = ListenerWorld.generate(n_albums=n_albums, seed=seed)
    tracks, taste = world.tracks, world.taste
    target = new_run_dir(
        data_dir or base.data_dir / "demo", fresh=fresh, given=data_dir is not None
    )
    result = DemoResult(seed=seed, data_dir=str(target), catalogue_tracks=len(tracks))
    progress(
        f"local Spotify with {len(tracks)} generated recordings, behaving as Spotify does for "
        "a new app (no audio features; simulated ReccoBeats descriptors instead), and a "
        "local Deezer whose previews are generated chords; "
        f"data in {target}"
    )
    clock = [START]
    with (
        world.serve() as sim,
        # Six half-hour cycles run in seconds here, so Deezer's real-time quota (50 calls
        # in 5 s) and bachbot's pace under it are both lifted, like the demo's clock.
        DeezerSim(deezer_tracks(world.catalogue, seconds=DEMO_PREVIEW_S), quota=10**9) as deezer,
        _quiet_about_the_simulated_spotify(),
    ):
        settings = demo_settings(base, sim, target).model_copy(
            update=deezer.settings_update() | {"deezer_calls_per_second": 1e9}
        )
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
                liked = removed = 0
                for slot in (BOT_PLAYLIST, TO_RATE_PLAYLIST):  # the listener plays both lists
                    playlist_id = _own(sessions, slot)
                    listed = (
                        [] if playlist_id is None else sim.state.playlist_track_ids(playlist_id)
                    )
                    for i, track_id in enumerate(listed):
                        sim.state.play(LISTENER, track_id, clock[0] + timedelta(minutes=1 + i))
                    reaction = react(listed, tracks=tracks, taste=taste)
                    for track_id in reaction.like:
                        sim.state.like(LISTENER, track_id, clock[0] + timedelta(minutes=5))
                    for track_id in reaction.remove:
                        if playlist_id is not None:
                            sim.state.remove_from_playlist(playlist_id, track_id)
                    liked, removed = liked + len(reaction.like), removed + len(reaction.remove)
                    if slot is TO_RATE_PLAYLIST:
                        figures.asked = len(listed)
                        figures.answered = len(reaction.like) + len(reaction.remove)
                figures.liked, figures.removed = liked, removed
                result.cycles.append(figures)
                progress(_line(figures))
                if figures.gate:
                    progress(f"  retrain: {figures.gate}")
            shares = result.summarise()
            progress(
                f"last {result.summary['cycles']} cycles, loved share of the playlist "
                f"[95% interval]: bachbot {shares['bachbot'].text()}, nearest-neighbour "
                f"ranker {shares['nearest_neighbour'].text()}, random pick "
                f"{shares['random'].text()}"
            )
            result.playlist = _playlist_listing(sessions, sim, tracks, taste)
            progress("writing the model report ...")
            with transaction(sessions) as session:
                written = write_report(session=session, settings=settings, fast=True)
            result.report_path = str(written.path)
        wiring.dispose()
        # An off-spec answer of the local Spotify, or a call to a path Spotify does
        # not serve, is a bug the demo would otherwise hide (see spotify_sim.server).
        sim.assert_valid()
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


def _own(sessions: sessionmaker[Session], slot: Slot[str]) -> str | None:
    with sessions() as session:
        return slot.get(session)


def _published(sessions: sessionmaker[Session], sim: SpotifySim) -> list[str]:
    bot = _own(sessions, BOT_PLAYLIST)
    return [] if bot is None else sim.state.playlist_track_ids(bot)


def _nearest_neighbour(
    session: Session, candidates: list[str], likes: list[str], size: int
) -> list[str]:
    """The ``size`` candidates nearest to the likes in bachbot's own feature matrix."""
    if not candidates or size == 0:
        return []
    X = standardised(load_matrix(session=session, track_ids=[*candidates, *likes]))
    order = nearest_order(X[: len(candidates)], X[len(candidates) :])
    return [candidates[i] for i in order[:size]]


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
        # A rejected model is followed by the refit of the one in use, whose decision
        # restates the rejection: the last one says it all.
        gate = next((v.decision for v in reversed(new) if v.decision), None)
        unrated = sorted(t for t in tracks if t in known and t not in ratings)
        likes = sorted(liked_track_ids(session=session) & set(tracks))
        nearest = _nearest_neighbour(session, unrated, likes, len(published))
    auc = None if model is None else (model.metrics or {}).get("score")
    random_share = share_loved(unrated, tracks=tracks, taste=taste)
    return CycleFigures(
        cycle=number,
        ratings=len(ratings),
        model=None if model is None else model.version,
        model_kind=None if model is None else model.kind,
        nested_auc=auc if isinstance(auc, int | float) else None,
        gate=gate,
        published=len(published),
        loved_share=share_loved(published, tracks=tracks, taste=taste),
        random_share=random_share,
        liked=0,
        removed=0,
        nn_share=share_loved(nearest, tracks=tracks, taste=taste),
        loved=sum(taste.loves(tracks[t]) for t in published if t in tracks),
        nn_loved=sum(taste.loves(tracks[t]) for t in nearest),
        random_loved=(random_share or 0.0) * len(published),
    )


def _pct(value: float | None) -> str:
    return "  –  " if value is None else f"{value:5.0%}"


def _line(f: CycleFigures) -> str:
    auc = "  –  " if f.nested_auc is None else f"{f.nested_auc:5.2f}"
    return (
        f"cycle {f.cycle}: {f.ratings:3d} ratings | model {f.model_kind or 'none':9s} "
        f"nested ROC AUC {auc} | published {f.published:2d}, loved {_pct(f.loved_share)} "
        f"vs nearest-neighbour {_pct(f.nn_share)}, random pick {_pct(f.random_share)} | "
        f"listener liked {f.liked}, removed {f.removed}"
        + (f" ({f.answered} of {f.asked} to rate answered)" if f.asked else "")
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
