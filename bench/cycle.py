"""Wall time and peak RSS of one full cycle as the library grows.

For each size (known Bach tracks: 0 = the empty baseline, 1k, 10k, 50k):

1. a template library is built once through the product (a demo catalogue
   synced, described and a model trained on 100 ratings, 5x2 outer folds);
2. a fresh database is filled directly (bulk inserts): ``size`` tracks cloned
   from the template with their feature rows, 300 explicit ratings, the
   template's promoted model; the local Spotify knows the same tracks;
3. one warm-up cycle runs in this process (first listing, first publish,
   scores for all tracks), untimed;
4. ``new`` new tracks appear in a playlist of the user's, and the measured
   cycle (sync, features, score, publish; training is not due) runs in a
   fresh interpreter (:mod:`bench.cycle_child`) so its peak RSS is its own.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from bench.calls import START
from bench.report import Row
from bench.world import (
    base_settings,
    database,
    settings_to_json,
    sim_settings,
)
from models.catalogue_demo import BACH_ID, DemoCatalogue, generate_catalogue
from models.typicality import reference_sample
from service.demo_world import LISTENER, log_in
from service.settings import Settings
from service.spotify_sim import SimState, SpotifySim
from service.spotify_sim.state import make_id
from service.store.app_state import (
    EXPLAIN_REFERENCE,
    TASTE,
    TRAIN_MARK,
    ReferenceSample,
    TasteSummary,
)
from service.store.db import make_engine, session_factory, transaction
from service.store.ratings import add_rating
from service.store.tables import Feature, ModelVersion, Prediction, Rating, Track
from service.wiring import wire

SIZES = (1_000, 10_000, 50_000, 500_000)
"""Issue 10's sizes and issue 21's 500,000 (about two minutes to build per back-end)."""
TARGET_FROM = 50_000
"""Sizes from which the cycle targets apply (issue 10 at 50k, issue 21 at 500k)."""
BULK = 10_000
DAEMON_SIZE = 50_000
"""The size at which the daemon's RSS between cycles is measured (issue 21: < 150 MB)."""
TARGET_DAEMON_MB = 150.0
QUICK_SIZES = (200, 600)
NEW_TRACKS = 500
QUICK_NEW = 50
RATED = 300
TEMPLATE_RATINGS = 100
TARGET_SECONDS = 3.0
TARGET_RSS_MB = 300.0
RESCORE_TARGET_MB = 400.0
"""Issue 21: rescoring the whole catalogue after a model change in bounded memory (its
time has a target only as prediction alone, in the model section: < 5 s)."""
RESCORE_FROM = 500_000
Progress = Callable[[str], None]


@dataclass
class Template:
    """A library built through the product, to be cloned at any size."""

    catalogue: DemoCatalogue
    tracks: list[dict[str, Any]]
    features: dict[str, list[dict[str, Any]]]
    model: dict[str, Any]
    predictions: dict[str, tuple[float, float | None, dict[str, Any] | None]]
    """The promoted model's score, uncertainty and explanation per template track."""
    taste: TasteSummary | None = None
    """What the model learned, as its first score run stored it."""


def build_template(folder: Path, *, quick: bool, seed: int, progress: Progress) -> Template:
    """Sync a demo catalogue, describe it and train a model, all through ``Cycle``."""
    from bench.calls import LibraryShape, build_state

    catalogue = generate_catalogue(n_albums=12 if quick else 60, seed=seed, segments_per_track=1)
    shape = LibraryShape(n_albums=0, own=0, own_len=0, followed=0, followed_len=0, likes=0)
    # Timed: the spec checker's cost would be counted as bachbot's (the soak and the
    # fault suite run the same calls with the checker on).
    with SpotifySim(build_state(catalogue, shape, seed=seed), mode="new", validate=False) as sim:
        settings = sim_settings(
            base_settings(folder), sim, data_dir=folder,
            database_url=f"sqlite:///{folder / 'template.db'}", calls_per_cycle=2000,
        )  # fmt: skip
        http = httpx.Client(timeout=30)
        wiring = wire(settings, clock=lambda: START, http_client=http)
        log_in(sim, wiring.tokens)
        sessions = wiring.sessions
        rng = random.Random(seed)
        with transaction(sessions) as session:
            for track in rng.sample(
                catalogue.tracks, k=min(TEMPLATE_RATINGS, len(catalogue.tracks))
            ):
                session.add(Track(id=track.id, name=track.name, is_bach=True, source="bench"))
                session.flush()
                add_rating(session=session, track_id=track.id, value=rng.randint(1, 10),
                           source="explicit", created_at=START)  # fmt: skip
        with http:
            report = wiring.cycle(train_fast=True).run_once()
        progress(f"  template: {[(o.job, o.status) for o in report.outcomes]}")
        with sessions() as session:
            tracks = [
                {c.name: getattr(t, c.name) for c in Track.__table__.columns}
                for t in session.scalars(select(Track).where(Track.is_bach.is_(True)))
            ]
            features: dict[str, list[dict[str, Any]]] = {}
            for row in session.scalars(select(Feature)):
                features.setdefault(row.track_id, []).append(
                    {"provider": row.provider, "schema_version": row.schema_version,
                     "values": row.values}
                )  # fmt: skip
            model_row = session.scalars(
                select(ModelVersion).where(ModelVersion.promoted.is_(True))
            ).one()
            model = {
                c.name: getattr(model_row, c.name)
                for c in ModelVersion.__table__.columns
                if c.name != "id"
            }
            predictions = {
                p.track_id: (p.score, p.uncertainty, p.explanation)
                for p in session.scalars(
                    select(Prediction).where(Prediction.model_version_id == model_row.id)
                )
            }
            taste = TASTE.get(session)
        wiring.dispose()
    tracks = [t for t in tracks if features.get(t["id"]) and t["id"] in predictions]
    return Template(catalogue, tracks, features, model, predictions, taste)


def _known_id(i: int) -> str:
    return make_id(f"bench-known-{i}")


def _new_id(i: int) -> str:
    return make_id(f"bench-new-{i}")


def sim_state(template: Template, *, size: int, new: int) -> tuple[SimState, str]:
    """The local Spotify for one size: the known tracks, the new ones, and a user playlist."""
    state = SimState()
    state.add_artist("Johann Sebastian Bach", id=BACH_ID)
    performer = state.add_artist("Bench Ensemble")
    state.add_user(LISTENER)
    known_album = state.add_album("Known recordings", artist_ids=[performer])
    new_album = state.add_album("New recordings", artist_ids=[performer])
    demo = {t.id: t for t in template.catalogue.tracks}
    for i in range(size):
        t = template.tracks[i % len(template.tracks)]
        state.add_track(t["name"], id=_known_id(i), album_id=known_album,
                        artist_ids=[BACH_ID, performer])  # fmt: skip
    for i in range(new):
        t = template.tracks[i % len(template.tracks)]
        source = demo.get(t["id"])
        state.add_track(
            t["name"], id=_new_id(i), album_id=new_album, artist_ids=[BACH_ID, performer],
            reccobeats=source.reccobeats if source else None,
        )  # fmt: skip
    playlist = state.add_playlist(owner=LISTENER, name="New finds", id=make_id("bench-new-finds"))
    return state, playlist


WORKS = 1_120
"""BWV numbers the clones are spread over (the catalogue's 1-1120)."""
PERFORMERS = 997
"""Performers the clones are spread over (prime, so clone, work and performer vary apart)."""


def clone(template_track: dict[str, Any], i: int, *, when: Any) -> dict[str, Any]:
    """Known track ``i``: a template track under its own id, work and performer.

    A world of ~60 templates cloned as they are has ~60 works and one performer, so
    the per-work and per-performer caps could never fill "Predicted favourites" or
    "Bach to rate" and publish would read every prediction each cycle: the clones
    get BWV numbers and performers of their own, as a real catalogue has.
    """
    performer = {"id": make_id(f"bench-performer-{i % PERFORMERS}"),
                 "name": f"Bench performer {i % PERFORMERS}"}  # fmt: skip
    composers = [a for a in template_track.get("artists") or [] if a.get("id") == BACH_ID]
    return {
        **template_track, "id": _known_id(i), "bwv": str(1 + i % WORKS),
        "artists": [*composers, performer], "first_seen_at": when, "updated_at": when,
    }  # fmt: skip


def populate(session: Session, template: Template, *, size: int, rated: int, seed: int) -> None:
    """Bulk-insert ``size`` known tracks with features, ``rated`` ratings, the model, and
    the model's predictions for the unrated ones (a clone's are its template track's, as
    scoring it would give, explanation included), so a warm-up cycle does not score (or
    explain) 500,000 tracks first."""
    rng = random.Random(seed)
    when = START - timedelta(days=1)
    session.execute(
        insert(ModelVersion),
        [{**template.model, "promoted": True, "created_at": when, "promoted_at": when}],
    )
    model_id = session.scalar(select(func.max(ModelVersion.id)))
    rated = min(rated, size)
    for start in range(0, size, BULK):
        tracks, features, predictions = [], [], []
        for i in range(start, min(size, start + BULK)):
            t = template.tracks[i % len(template.tracks)]
            new_id = _known_id(i)
            tracks.append(clone(t, i, when=when))
            features += [
                {**f, "track_id": new_id, "fetched_at": when} for f in template.features[t["id"]]
            ]
            if i >= rated:
                score, spread, explanation = template.predictions[t["id"]]
                predictions.append({
                    "track_id": new_id, "model_version_id": model_id, "score": score,
                    "uncertainty": spread, "created_at": when, "explanation": explanation,
                })  # fmt: skip
        session.execute(insert(Track), tracks)
        session.execute(insert(Feature), features)
        if predictions:
            session.execute(insert(Prediction), predictions)
        session.flush()
        session.expunge_all()
    ratings = [
        {"track_id": _known_id(i), "value": rng.randint(1, 10), "source": "explicit",
         "created_at": when}
        for i in range(rated)
    ]  # fmt: skip
    if ratings:
        session.execute(insert(Rating), ratings)
    newest = session.scalar(select(func.max(Rating.id))) or 0
    TRAIN_MARK.put(session, newest)
    # What the model's first score run (skipped by the bulk insert) would have stored: its
    # taste summary and the reference sample its explanations are measured against.
    if template.taste is not None:
        TASTE.put(session, template.taste)
    if model_id is not None:
        unrated = (_known_id(i) for i in range(rated, size))
        sample = reference_sample(unrated, seed=model_id)
        EXPLAIN_REFERENCE.put(session, ReferenceSample(model_id, tuple(sample)))


def analyse(engine: Engine) -> None:
    """Give PostgreSQL's planner statistics of the bulk-inserted world.

    A real catalogue grows over months and autovacuum analyses its tables as they
    grow; a world inserted in one go minutes before the measured cycle may not have
    been analysed yet, and without statistics the planner guesses a tenth of the
    tracks for "changed since the last pass" and hashes every feature row.  SQLite
    is left as it is: bachbot never runs ANALYZE there, so its plans are measured as
    users get them.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


def measure_size(
    template: Template, *, backend: str, folder: Path, size: int, new: int, seed: int,
    progress: Progress, model_change: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Prepare one world of ``size`` known tracks, warm it up, measure one cycle in a child.

    At :data:`DAEMON_SIZE` a second batch of ``new`` tracks is then measured the way the
    daemon runs a cycle (train and score in a worker process), for its RSS between cycles.
    With ``model_change``, last, a new model is promoted and the next cycle measured: it
    rescores every unrated track, as the cycle after a retrain does.
    """
    daemon = size == DAEMON_SIZE
    state, new_finds = sim_state(template, size=size, new=new * 2 if daemon else new)
    data_dir = folder / f"cycle_{size}"
    with (
        database(backend, folder, f"cycle_{size}") as url,
        SpotifySim(state, mode="new", validate=False) as sim,  # timed: no checker, as above
    ):
        settings = sim_settings(base_settings(data_dir), sim, data_dir=data_dir, database_url=url)
        clock = [START + timedelta(minutes=30)]
        http = httpx.Client(timeout=30)
        wiring = wire(settings, clock=lambda: clock[0], http_client=http)
        log_in(sim, wiring.tokens)
        with transaction(wiring.sessions) as session:
            populate(session, template, size=size, rated=RATED, seed=seed)
        analyse(wiring.engine)
        with http:
            warm = wiring.cycle().run_once()
        wiring.dispose()
        failed = {o.job: o.error for o in warm.outcomes if o.status != "ok"}
        if failed:
            progress(f"  warm-up at {size}: {failed}")
        for i in range(new):
            state.add_to_playlist(new_finds, _new_id(i), added_at=clock[0])
        sim.reset_calls()
        result = _child(settings, clock=START + timedelta(minutes=60), folder=data_dir)
        result["sim_calls"] = dict(sim.calls)
        if daemon:
            for i in range(new, 2 * new):
                state.add_to_playlist(new_finds, _new_id(i), added_at=clock[0])
            result["daemon"] = _child(
                settings, clock=START + timedelta(minutes=90), folder=data_dir, daemon=True
            )
        if model_change:
            promote_a_copy(settings)
            result["model_change"] = _child(
                settings, clock=START + timedelta(minutes=120), folder=data_dir
            )
    result["size"], result["new"], result["backend"] = size, new, backend
    return result


def promote_a_copy(settings: Settings) -> None:
    """Promote a new model version (the same artifact under a new version), as a retrain
    that won the promotion gate does: its predictions are all still to be made."""
    engine = make_engine(settings)
    try:
        with transaction(session_factory(engine)) as session:
            old = session.scalars(select(ModelVersion).where(ModelVersion.promoted.is_(True))).one()
            copy = {c.name: getattr(old, c.name) for c in ModelVersion.__table__.columns}
            del copy["id"]
            old.promoted = False
            session.flush()
            copy["version"] = f"{old.version}-retrained"
            session.execute(insert(ModelVersion), [copy])
    finally:
        engine.dispose()


def _child(settings: Settings, *, clock: Any, folder: Path, daemon: bool = False) -> dict[str, Any]:
    spec = {"settings": settings_to_json(settings), "clock": clock.isoformat(), "daemon": daemon}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bench.cycle_child", str(path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"measured cycle failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_cycles(
    backend: str, folder: Path, template: Template, *, quick: bool, seed: int, progress: Progress,
    sizes: tuple[int, ...] | None = None,
) -> tuple[list[Row], list[dict[str, Any]]]:  # fmt: skip
    """The empty baseline and every size on ``backend``; rows and the raw results."""
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    new = QUICK_NEW if quick else NEW_TRACKS
    section = f"cycle/{backend}"
    empty = measure_size(template, backend=backend, folder=folder, size=0, new=0, seed=seed,
                         progress=progress)  # fmt: skip
    progress(f"  {section}: empty cycle {empty['seconds']:.2f} s, {empty['rss_peak_mb']:.0f} MB")
    results = [empty]
    rows: list[Row] = []
    previous = empty
    for size in sizes:
        # the rescore is measured once, at the largest size (a quick run: to exercise it)
        rescore = size == max(sizes) and (quick or size >= RESCORE_FROM)
        result = measure_size(template, backend=backend, folder=folder, size=size, new=new,
                              seed=seed, progress=progress, model_change=rescore)  # fmt: skip
        results.append(result)
        last = size >= TARGET_FROM and not quick
        step = "empty cycle" if previous is empty else f"{previous['size']:,} known"
        label = f"{size:,} known + {new} new"
        growth = "" if previous is empty else f"{size / previous['size']:.0f}x the tracks; "
        steps = ", ".join(f"{k} {v:.2f}" for k, v in result["steps"].items() if v is not None)
        peaks = ", ".join(f"{k} {v:.0f}" for k, v in result["step_peaks"].items() if v is not None)
        errors = f"; errors: {result['errors']}" if result["errors"] else ""
        top = result.get("top_queries") or []
        dominant = "; ".join(
            f"{q['seconds']:.2f} s x{q['count']}: {q['sql'][:90]}" for q in top[:3]
        )
        rows.append(Row(
            section, f"cycle wall time, {label}", result["seconds"], "s",
            target=TARGET_SECONDS if last else None, compare="<", baseline=previous["seconds"],
            baseline_name=step, note=f"{growth}steps (s): {steps}{errors}; slowest queries: "
            f"{dominant}", details=result,
        ))  # fmt: skip
        rows.append(Row(
            section, f"cycle peak RSS, {label}", result["rss_peak_mb"], "MB",
            target=TARGET_RSS_MB if last else None, compare="<", baseline=previous["rss_peak_mb"],
            baseline_name=step,
            note=f"RSS after imports and opening the database: {result['rss_floor_mb']:.0f} MB; "
            f"peak per step (MB): {peaks}; RSS after the cycle: {result['rss_after_mb']:.0f} MB",
        ))  # fmt: skip
        if "daemon" in result:
            rows.append(_daemon_row(section, label, result["daemon"]))
        if "model_change" in result:
            rows += _model_change_rows(
                section, size, result["model_change"], target=not quick and size >= RESCORE_FROM
            )
        progress(
            f"  {section}: {label}: {result['seconds']:.2f} s, {result['rss_peak_mb']:.0f} MB "
            f"({steps})"
        )
        previous = result
    pairs = [(results[1], r) for r in results[2:]]
    if len(results) > 3:
        pairs.append((results[-2], results[-1]))
    for first, result in pairs:
        rows.append(Row(
            section, f"time growth {first['size']:,} -> {result['size']:,} known",
            result["seconds"] / first["seconds"], "x",
            note=f"tracks grew {result['size'] / first['size']:.0f}x (linear would be that); "
            f"RSS grew {result['rss_peak_mb'] / first['rss_peak_mb']:.2f}x",
        ))  # fmt: skip
    return rows, results


def _model_change_rows(
    section: str, size: int, changed: dict[str, Any], *, target: bool
) -> list[Row]:
    """The cycle after a new model was promoted: every unrated track scored again."""
    steps = ", ".join(f"{k} {v:.2f}" for k, v in changed["steps"].items() if v is not None)
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in changed["step_peaks"].items() if v is not None)
    explaining = changed.get("score_explain_seconds") or 0.0
    errors = f"; errors: {changed['errors']}" if changed["errors"] else ""
    label = f"cycle after a model change, {size:,} known"
    return [
        Row(
            section, f"{label}: wall time", changed["seconds"], "s",
            note=f"{changed['scored'] or 0:,} tracks scored again (load features, predict, "
            f"write predictions) and the unexplained among the best 2,000 and the published "
            f"explained ({explaining:.2f} s); steps (s): "
            f"{steps}{errors}; prediction alone is the model section's block-wise row",
            details=changed,
        ),
        Row(
            section, f"{label}: peak RSS", changed["rss_peak_mb"], "MB",
            target=RESCORE_TARGET_MB if target else None, compare="<",
            baseline=changed["rss_floor_mb"], baseline_name="after imports",
            note=f"peak per step (MB): {peaks}",
        ),
    ]  # fmt: skip


def _daemon_row(section: str, label: str, daemon: dict[str, Any]) -> Row:
    """RSS of a daemon-shaped process after a cycle at 50k, against its import floor."""
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in daemon["step_peaks"].items() if v is not None)
    return Row(
        section, f"daemon RSS between cycles, {label}", daemon["rss_after_mb"], "MB",
        target=TARGET_DAEMON_MB, compare="<", baseline=daemon["import_floor_mb"],
        baseline_name="import floor",
        note=f"a process shaped like `bachbot run` (service.daemon imported, train and score "
        f"in a worker) after one cycle and a garbage collection; import floor = `python -c "
        f"'import service.daemon'` {daemon['import_floor_mb']:.0f} MB, `import service.cli` "
        f"(the entry module) {daemon['entry_floor_mb']:.0f} MB; cycle {daemon['seconds']:.2f} s "
        f"(the worker's start included); peak per step (MB, a worker's own where it ran the "
        f"step): {peaks}",
        details=daemon,
    )  # fmt: skip


def main() -> None:  # pragma: no cover - manual use
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = build_template(folder / "template", quick=True, seed=0, progress=print)
        rows, _ = run_cycles("sqlite", folder, template, quick=True, seed=0, progress=print)
    from bench.report import render_table

    print(render_table(rows))


if __name__ == "__main__":  # pragma: no cover
    main()
