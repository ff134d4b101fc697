"""The daemon's small HTTP face: /healthz, /metrics, the status page, and /callback.

Served by uvicorn in the daemon's process (:mod:`service.http_server`), bound
to 127.0.0.1 by default.  ``BACHBOT_HTTP_TOKEN`` protects the status page and
metrics (bearer token, ``?token=``, or basic auth with any user name).  Bound
to anything but loopback *without* a token (as in a container listening on
0.0.0.0 with the token left blank), the status page and metrics are not
served at all: they answer 403 with what to set, so a forgotten token shows
nothing of the listener's library to whoever reaches the port.  The health
check stays open for container orchestrators and says nothing secret;
``/callback`` stays too, since it only completes a login ``bachbot auth``
started, checked by its OAuth state.

While the database is unreachable, ``/healthz``, ``/`` and ``/metrics``
answer 503 with one line saying so, not a 500 with a traceback in the log.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
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

from service import memory
from service.model_readout import model_quality
from service.settings import Settings
from service.status import collect_status
from service.status_page import render_page
from service.store.auth_health import token_health
from service.store.connect import UNREACHABLE, cause_of
from service.store.jobruns import last_success
from service.store.model_versions import promoted_model
from service.store.tables import JobRun, Rating, Track

CallbackHandler = Callable[[str], str]
"""Takes the full callback URL, completes OAuth, returns a message for the user."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: only this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def pages_closed(settings: Settings) -> bool:
    """The status page and metrics are off: reachable from elsewhere, and no token set."""
    return settings.http_token is None and not is_loopback(settings.http_host)


def _closed() -> Response:
    return PlainTextResponse(
        "bachbot: the status page and metrics are off because bachbot listens on a "
        "non-loopback address without BACHBOT_HTTP_TOKEN; set a token (e.g. `openssl rand "
        "-hex 32`) or bind BACHBOT_HTTP_HOST=127.0.0.1\n",
        status_code=403,
    )


def _database_down(err: Exception) -> Response:
    return PlainTextResponse(
        f"bachbot: database unreachable ({cause_of(err)}); this page returns when it answers\n",
        status_code=503,
    )


MIB = 1024 * 1024


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
        peak = GaugeMetricFamily(
            "bachbot_job_last_peak_rss_bytes",
            "Peak resident memory of the last run (a worker's where one ran it)",
            labels=["job"],
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
                peak_mb = (run.counts or {}).get("peak_rss_mb")
                if isinstance(peak_mb, int | float):
                    peak.add_metric([run.job], peak_mb * MIB)
            login_by = token_health(session=session).log_in_again_by
            tracks = session.scalar(select(func.count()).select_from(Track)) or 0
            ratings = session.scalar(select(func.count()).select_from(Rating)) or 0
            model = promoted_model(session=session)
        yield runs
        yield duration
        yield peak
        resident = memory.rss_mb()
        if resident is not None:
            yield GaugeMetricFamily(
                "bachbot_resident_memory_bytes",
                "Resident memory of the daemon now (between cycles, its idle size)",
                value=resident * MIB,
            )
        if login_by is not None:
            yield GaugeMetricFamily(
                "bachbot_spotify_login_expires_timestamp_seconds",
                "When Spotify ends the login (6 months after `bachbot auth`)",
                value=login_by.timestamp(),
            )
        yield GaugeMetricFamily("bachbot_tracks", "Known tracks", value=tracks)
        yield GaugeMetricFamily("bachbot_rating_events", "Rating events recorded", value=ratings)
        quality = None if model is None else model_quality(model.metrics)
        if quality is not None:
            score = GaugeMetricFamily(
                "bachbot_model_score",
                "Nested-CV score of the model in use, labelled with its metric (e.g. roc_auc)",
                labels=["metric"],
            )
            score.add_metric([quality.metric], quality.value)
            yield score
        r2 = (model.metrics or {}).get("r2") if model else None
        if isinstance(r2, int | float):  # kept for existing dashboards; see bachbot_model_score
            yield GaugeMetricFamily("bachbot_model_r2", "Nested-CV R2 of the model in use", r2)
        calls = CounterMetricFamily(
            "bachbot_spotify_calls", "Spotify calls by endpoint", labels=["endpoint"]
        )
        errors = CounterMetricFamily(
            "bachbot_spotify_errors",
            "Failed Spotify attempts by endpoint and kind (rate_limited, unavailable, ...)",
            labels=["endpoint", "kind"],
        )
        stats = self.spotify_calls()
        for endpoint, count in sorted(stats.get("calls", {}).items()):
            calls.add_metric([endpoint], count)
        for key, count in sorted(stats.get("errors", {}).items()):
            endpoint, _, kind = key.rpartition("|")
            errors.add_metric([endpoint, kind], count)
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

    closed = pages_closed(settings)

    def metrics(request: Request) -> Response:
        if closed:
            return _closed()
        if not _authorized(request, settings):
            return _unauthorized()
        try:
            body = generate_latest(registry)
        except UNREACHABLE as err:
            return _database_down(err)
        return Response(body, media_type="text/plain; version=0.0.4")

    def status_page(request: Request) -> Response:
        if closed:
            return _closed()
        if not _authorized(request, settings):
            return _unauthorized()
        try:
            snapshot = collect_status(engine=engine, settings=settings)
        except UNREACHABLE as err:
            return _database_down(err)
        return HTMLResponse(render_page(snapshot))

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
