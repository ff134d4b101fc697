"""The daemon's small HTTP face: /healthz, /metrics, the status page, and /callback.

Served by uvicorn in the daemon's process, bound to 127.0.0.1 by default.
When bound elsewhere, ``BACHBOT_HTTP_TOKEN`` protects the status page and
metrics (bearer token, ``?token=``, or basic auth with any user name); the
health check stays open for container orchestrators and says nothing secret.
"""

from __future__ import annotations

import base64
import hmac
import html
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from service.settings import Settings
from service.status import collect_status
from service.store.jobruns import last_success
from service.store.model_versions import promoted_model
from service.store.models import JobRun, ModelVersion, Prediction, Publication, Rating, Track

CallbackHandler = Callable[[str], str]
"""Takes the full callback URL, completes OAuth, returns a message for the user."""


class _DatabaseCollector(Collector):
    """Metrics read from the database at scrape time, so they survive restarts."""

    def __init__(
        self, engine: Engine, spotify_calls: Callable[[], Mapping[str, Mapping[str, int]]]
    ) -> None:
        self.engine = engine
        self.spotify_calls = spotify_calls

    def collect(self) -> Any:
        runs = CounterMetricFamily(
            "bachbot_job_runs", "Job runs by job and status", labels=["job", "status"]
        )
        duration = GaugeMetricFamily(
            "bachbot_job_last_duration_seconds", "Duration of the last run", labels=["job"]
        )
        with Session(self.engine) as session:
            for job, status, count in session.execute(
                select(JobRun.job, JobRun.status, func.count()).group_by(JobRun.job, JobRun.status)
            ):
                runs.add_metric([job, status], count)
            seen: set[str] = set()
            for run in session.scalars(
                select(JobRun).where(JobRun.finished_at.is_not(None)).order_by(JobRun.id.desc())
            ):
                if run.job in seen or run.finished_at is None:
                    continue
                seen.add(run.job)
                duration.add_metric([run.job], (run.finished_at - run.started_at).total_seconds())
            tracks = session.scalar(select(func.count()).select_from(Track)) or 0
            ratings = session.scalar(select(func.count()).select_from(Rating)) or 0
            model = promoted_model(session=session)
        yield runs
        yield duration
        yield GaugeMetricFamily("bachbot_tracks", "Known tracks", value=tracks)
        yield GaugeMetricFamily("bachbot_rating_events", "Rating events recorded", value=ratings)
        r2 = (model.metrics or {}).get("r2") if model else None
        if isinstance(r2, int | float):
            yield GaugeMetricFamily("bachbot_model_r2", "Nested-CV R2 of the model in use", r2)
        calls = CounterMetricFamily(
            "bachbot_spotify_calls", "Spotify calls by endpoint", labels=["endpoint"]
        )
        errors = CounterMetricFamily(
            "bachbot_spotify_errors", "Spotify errors by endpoint", labels=["endpoint"]
        )
        stats = self.spotify_calls()
        for endpoint, count in sorted(stats.get("calls", {}).items()):
            calls.add_metric([endpoint], count)
        for endpoint, count in sorted(stats.get("errors", {}).items()):
            errors.add_metric([endpoint], count)
        yield calls
        yield errors


def _authorized(request: Request, settings: Settings) -> bool:
    if settings.http_token is None:
        return True
    expected = settings.http_token.get_secret_value()
    given = request.query_params.get("token", "")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        given = header[7:]
    elif header.lower().startswith("basic "):
        try:
            given = base64.b64decode(header[6:]).decode().split(":", 1)[1]
        except (ValueError, IndexError):
            given = ""
    return hmac.compare_digest(given.encode(), expected.encode())


def _unauthorized() -> Response:
    return PlainTextResponse(
        "bachbot: this page needs BACHBOT_HTTP_TOKEN (bearer, ?token= or basic auth)\n",
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="bachbot"'},
    )


def playlist_rows(*, engine: Engine) -> list[dict[str, Any]]:
    """The published list, each track with its score and uncertainty."""
    with Session(engine) as session:
        publication = session.scalars(select(Publication).order_by(Publication.id.desc())).first()
        if publication is None or not publication.track_ids:
            return []
        model = session.scalars(
            select(ModelVersion).where(ModelVersion.version == publication.model_version)
        ).first()
        tracks = {
            t.id: t
            for t in session.scalars(select(Track).where(Track.id.in_(publication.track_ids)))
        }
        scores: dict[str, Prediction] = {}
        if model is not None:
            scores = {
                p.track_id: p
                for p in session.scalars(
                    select(Prediction).where(
                        Prediction.model_version_id == model.id,
                        Prediction.track_id.in_(publication.track_ids),
                    )
                )
            }
    rows = []
    for position, track_id in enumerate(publication.track_ids, start=1):
        track = tracks.get(track_id)
        prediction = scores.get(track_id)
        rows.append(
            {
                "position": position,
                "track_id": track_id,
                "name": track.name if track else track_id,
                "artists": ", ".join(a.get("name", "") for a in (track.artists if track else [])),
                "score": None if prediction is None else round(prediction.score, 2),
                "uncertainty": None
                if prediction is None or prediction.uncertainty is None
                else round(prediction.uncertainty, 2),
            }
        )
    return rows


def render_page(snapshot: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The status page: plain HTML a person reads, no scripts, nothing secret."""
    e = html.escape
    auth = snapshot["auth"]
    auth_line = "connected" if auth["state"] == "ok" else f"{auth['state']}: run bachbot auth"
    model = snapshot["model"]
    if model is None:
        model_html = "<p>No model promoted yet.</p>"
    else:
        metrics = model.get("metrics") or {}
        cells = "".join(
            f"<tr><th>{e(str(k))}</th><td>{e(_fmt(v))}</td></tr>"
            for k, v in metrics.items()
            if isinstance(v, int | float | str)
        )
        model_html = (
            f"<p>{e(model['version'])} ({e(model['kind'])}, {model['n_ratings']} ratings, "
            f"promoted {e(str(model['promoted_at']))})</p><table>{cells}</table>"
        )
    runs = "".join(
        f"<tr><td>{e(r['job'])}</td><td class='{e(r['status'])}'>{e(r['status'])}</td>"
        f"<td>{e(str(r['started_at']))}</td>"
        f"<td>{e(', '.join(f'{k}={v}' for k, v in (r['counts'] or {}).items()))}</td>"
        f"<td>{e(r['error'] or '')}</td></tr>"
        for r in snapshot["last_runs"]
    )
    counts = "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in snapshot["counts"].items())
    playlist = "".join(
        f"<tr><td>{r['position']}</td><td>{e(r['name'])}</td><td>{e(r['artists'])}</td>"
        f"<td>{_fmt(r['score'])}</td><td>{_fmt(r['uncertainty'])}</td></tr>"
        for r in rows
    )
    unreadable = "".join(
        f"<li><b>{e(p['name'])}</b> (owner {e(str(p['owner']))}): {e(str(p['reason']))}</li>"
        for p in snapshot["unreadable_playlists"]
    )
    notes = "".join(f"<li>{e(n)}</li>" for n in snapshot["notes"])
    providers = "".join(f"<li>{e(k)}: {e(str(v))}</li>" for k, v in snapshot["providers"].items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bachbot status</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 70em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1em; }}
td, th {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; }}
.failed {{ color: #b00; font-weight: bold; }} .ok {{ color: #070; }} .skipped {{ color: #a60; }}
</style></head><body>
<h1>bachbot</h1>
<p>Spotify: <b id="auth">{e(auth_line)}</b> &middot; database {e(snapshot["database_url"])}</p>
{"<ul class='notes'>" + notes + "</ul>" if notes else ""}
<h2>Predicted favourites</h2>
{
        "<table id='playlist'><tr><th>#</th><th>Track</th><th>Artists</th><th>Score</th>"
        "<th>&plusmn;</th></tr>" + playlist + "</table>"
        if rows
        else "<p>Nothing published yet.</p>"
    }
<h2>Model</h2>{model_html}
<h2>Last runs</h2>
<table id="runs"><tr><th>Job</th><th>Status</th><th>Started</th><th>Counts</th><th>Error</th></tr>
{runs}</table>
<h2>Counts</h2><table id="counts">{counts}</table>
{"<h2>Feature providers</h2><ul>" + providers + "</ul>" if providers else ""}
<h2>Playlists bachbot cannot read</h2>
{"<ul id='unreadable'>" + unreadable + "</ul>" if unreadable else "<p>None.</p>"}
</body></html>"""


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def build_app(
    *,
    settings: Settings,
    engine: Engine,
    scheduler_alive: Callable[[], bool],
    spotify_stats: Callable[[], Mapping[str, Mapping[str, int]]] = lambda: {},
    on_callback: CallbackHandler | None = None,
) -> Starlette:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_DatabaseCollector(engine, spotify_stats))

    def healthz(request: Request) -> Response:
        body: dict[str, Any] = {"scheduler": scheduler_alive()}
        try:
            with Session(engine) as session:
                session.execute(text("SELECT 1"))
                sync = last_success(session=session, job="sync")
            body["database"] = True
            body["last_sync_age_s"] = (
                None
                if sync is None or sync.finished_at is None
                else round((datetime.now(UTC) - sync.finished_at).total_seconds())
            )
        except Exception as err:  # reported, not raised: this is the health check
            body["database"] = False
            body["database_error"] = type(err).__name__
        healthy = body["database"] and body["scheduler"]
        return JSONResponse(body, status_code=200 if healthy else 503)

    def metrics(request: Request) -> Response:
        if not _authorized(request, settings):
            return _unauthorized()
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

    def status_page(request: Request) -> Response:
        if not _authorized(request, settings):
            return _unauthorized()
        snapshot = collect_status(engine=engine, settings=settings)
        return HTMLResponse(render_page(snapshot, playlist_rows(engine=engine)))

    def callback(request: Request) -> Response:
        if on_callback is None:
            return PlainTextResponse("no login is in progress\n", status_code=404)
        try:
            message = on_callback(str(request.url))
        except Exception as err:
            return PlainTextResponse(f"bachbot: login failed: {err}\n", status_code=400)
        return PlainTextResponse(message + "\n")

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/", status_page),
            Route("/callback", callback),
        ]
    )
