"""Security checks: OAuth state and scopes, secrets never shown, private files, HTTP exposure.

The HTTP checks run the daemon's real HTTP server (uvicorn on a loopback
port chosen by the OS), not a test client.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.daemon import Daemon
from service.login import begin_pending, complete_pending
from service.settings import Settings
from service.spotify.auth import SCOPE, SCOPES, AuthFailed, AuthFlow
from service.spotify_sim import SpotifySim
from service.status import collect_status
from service.status_page import render_page
from service.status_text import render_status_text
from service.store.app_state import AUTH_REVOKED, PENDING_LOGIN
from service.store.db import make_engine
from service.store.tables import JobRun, OAuthToken
from service.store.tokens import DbTokenStore
from service.wiring import Wiring
from tests.conftest import TEST_CLIENT_SECRET
from tests.plugins.spotify_fixtures import LISTENER

HTTP_TOKEN = "http-token-5e1f0c8b2d"
DB_PASSWORD = "db-pass-77c1e2"


@pytest.fixture
def daemon_factory(
    spotify_settings: Settings, engine: Engine
) -> Iterator[Callable[..., tuple[Daemon, str]]]:
    started: list[Daemon] = []

    def start(**overrides: object) -> tuple[Daemon, str]:
        settings = spotify_settings.model_copy(update={"http_port": 0, **overrides})
        daemon = Daemon(settings, engine=engine)
        port = daemon.start_http()
        started.append(daemon)
        return daemon, f"http://127.0.0.1:{port}"

    yield start
    for daemon in started:
        daemon.stop()


def _authorize(sim: SpotifySim, settings: Settings, state: str) -> str:
    """Play the browser: agree on the local Spotify, return the redirected URL."""
    response = httpx.get(
        sim.accounts_base + "authorize",
        params={
            "client_id": settings.spotify_client_id,
            "response_type": "code",
            "redirect_uri": settings.spotify_redirect_uri,
            "scope": SCOPE,
            "state": state,
        },
        follow_redirects=False,
    )
    assert response.status_code == 302
    return response.headers["location"]


# --- OAuth ------------------------------------------------------------------------------
def test_callback_accepts_only_the_pending_state(
    spotify_settings: Settings,
    spotify_sim: SpotifySim,
    sessions: sessionmaker[Session],
    engine: Engine,
) -> None:
    def on_callback(url: str) -> str:
        return complete_pending(url, settings=spotify_settings, sessions=sessions)

    daemon = Daemon(
        spotify_settings.model_copy(update={"http_port": 0}), engine=engine, on_callback=on_callback
    )
    base = f"http://127.0.0.1:{daemon.start_http()}"
    try:
        store = DbTokenStore(sessions)
        flow = AuthFlow(spotify_settings, store)
        redirected = _authorize(spotify_sim, spotify_settings, flow.state)
        query = urlsplit(redirected).query

        # no login in progress: refused, nothing stored
        response = httpx.get(f"{base}/callback?{query}")
        assert response.status_code == 400 and "no login is in progress" in response.text
        assert store.get_cached_token() is None

        begin_pending(sessions=sessions, flow=flow)
        forged = _authorize(spotify_sim, spotify_settings, "forged-state")
        response = httpx.get(f"{base}/callback?{urlsplit(forged).query}")
        assert response.status_code == 400 and "state mismatch" in response.text
        assert store.get_cached_token() is None

        with sessions() as session:
            AUTH_REVOKED.put(session, "revoked")
            session.commit()
        response = httpx.get(f"{base}/callback?{query}")
        assert response.status_code == 200, response.text
        token = store.get_cached_token()
        assert token is not None and token["access_token"] not in response.text
        with sessions() as session:
            assert PENDING_LOGIN.get(session) is None
            assert AUTH_REVOKED.get(session) is None
        # the same redirect again: the pending login is used up
        assert httpx.get(f"{base}/callback?{query}").status_code == 400
    finally:
        daemon.stop()


def test_wrong_state_in_a_pasted_url_is_refused(
    spotify_settings: Settings, spotify_sim: SpotifySim, sessions: sessionmaker[Session]
) -> None:
    store = DbTokenStore(sessions)
    flow = AuthFlow(spotify_settings, store)
    foreign = _authorize(spotify_sim, spotify_settings, "someone-elses-state")
    with pytest.raises(AuthFailed, match="state mismatch"):
        flow.finish(foreign)
    assert store.get_cached_token() is None


def test_bachbot_asks_for_the_least_scopes(
    spotify_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    url = AuthFlow(spotify_settings, DbTokenStore(sessions)).authorize_url()
    asked = set(parse_qs(urlsplit(url).query)["scope"][0].split())
    assert asked == {
        "playlist-read-private",
        "playlist-read-collaborative",
        "playlist-modify-private",
        "playlist-modify-public",
        "user-library-read",
        "user-read-recently-played",
        "user-top-read",
    }
    assert asked == set(SCOPES)
    # nothing that reads the account's e-mail, controls playback or writes the library
    assert not asked & {"user-read-email", "user-read-private", "user-modify-playback-state",
                        "user-library-modify", "streaming", "ugc-image-upload"}  # fmt: skip


# --- secrets never shown ------------------------------------------------------------------
@pytest.mark.timeout(60)
def test_tokens_and_secrets_never_reach_logs_reprs_status_metrics_or_errors(
    spotify_settings: Settings,
    spotify_sim: SpotifySim,
    sessions: sessionmaker[Session],
    engine: Engine,
    token_store: DbTokenStore,
    cli: Callable[..., tuple[int, str, str]],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    state = spotify_sim.state
    bach = state.add_artist("Johann Sebastian Bach", id="5aIqB5nVVvmFsvSdExz408")
    album = state.add_album("Partitas", artist_ids=[bach])
    for n in range(1, 4):
        track = state.add_track(f"Partita No. {n}, BWV 82{n}", album_id=album, artist_ids=[bach])
        state.like(LISTENER, track, f"2026-10-0{n}T10:00:00Z")
    settings = spotify_settings.model_copy(
        update={"http_token": SecretStr(HTTP_TOKEN), "http_port": 0, "min_ratings": 100}
    )
    wiring = Wiring(settings, engine, sessions, sleep=lambda _s: None)
    gateway, cycle = wiring.spotify, wiring.cycle(train_fast=True)
    cycle.run_once()
    spotify_sim.accounts.expire_access_tokens()
    cycle.run_once()  # a refresh: a second token pair
    spotify_sim.accounts.revoke()
    spotify_sim.accounts.expire_access_tokens()
    cycle.run_once()  # errors recorded in job runs
    token = token_store.get_cached_token()
    assert token is not None
    secrets = {
        "access token": token["access_token"],
        "refresh token": token["refresh_token"],
        "client secret": TEST_CLIENT_SECRET,
        "HTTP token": HTTP_TOKEN,
        "database password": DB_PASSWORD,
    }

    shown: dict[str, str] = {}
    with sessions() as session:
        errors = [r.error or "" for r in session.scalars(select(JobRun))]
        row = session.get(OAuthToken, "default")
        shown["reprs"] = " ".join(
            [repr(settings), str(settings), repr(token_store), repr(row), repr(gateway)]
        )
    assert any("bachbot auth" in e for e in errors)
    shown["job-run errors"] = "\n".join(errors)
    with_password = settings.model_copy(
        update={"database_url": f"postgresql+psycopg://bachbot:{DB_PASSWORD}@db:5432/bachbot"}
    )
    snapshot = collect_status(engine=engine, settings=with_password)
    shown["status text"] = render_status_text(snapshot)
    shown["status page (rendered)"] = render_page(snapshot)
    code, out, err = cli("status")
    assert code == 0
    shown["bachbot status"] = out + err

    daemon = Daemon(settings, engine=engine, cycle=cycle)
    base = f"http://127.0.0.1:{daemon.start_http()}"
    try:
        auth = {"Authorization": f"Bearer {HTTP_TOKEN}"}
        page = httpx.get(base + "/", headers=auth)
        metrics = httpx.get(base + "/metrics", headers=auth)
        health = httpx.get(base + "/healthz")
        assert page.status_code == metrics.status_code == 200
        shown["status page"] = page.text
        shown["metrics"] = metrics.text
        shown["healthz"] = health.text
    finally:
        daemon.stop()
    captured = capsys.readouterr()
    shown["captured output"] = captured.out + captured.err
    shown["log records"] = "\n".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    leaks = [
        f"{secret_name} in {where}"
        for where, text in shown.items()
        for secret_name, secret in secrets.items()
        if secret in text
    ]
    assert not leaks, leaks


# --- files ----------------------------------------------------------------------------------
def test_sqlite_file_and_data_dir_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        data = tmp_path / "fresh" / "bachbot"
        settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
        engine = make_engine(settings)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
        engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert files["bachbot.db"] == 0o600
    # SQLite's WAL and shared-memory files hold the same data: private too
    assert {name: mode for name, mode in files.items() if mode & 0o077} == {}


# --- HTTP ------------------------------------------------------------------------------------
def test_http_binds_loopback_by_default(
    daemon_factory: Callable[..., tuple[Daemon, str]],
) -> None:
    assert Settings(_env_file=None).http_host == "127.0.0.1"  # type: ignore[call-arg]
    daemon, _ = daemon_factory()
    port = daemon.port
    assert port is not None
    httpx.get(f"http://127.0.0.1:{port}/healthz")  # listening now (uvicorn listens in its thread)
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local = [line.split()[1] for line in listening if line.split()[3] == "0A"]
    assert f"0100007F:{port:04X}" in local
    assert not any(
        entry.endswith(f":{port:04X}") and not entry.startswith("0100007F") for entry in local
    )


def test_http_token_protects_status_and_metrics_but_not_healthz(
    daemon_factory: Callable[..., tuple[Daemon, str]],
) -> None:
    _, base = daemon_factory(http_token=SecretStr(HTTP_TOKEN))
    for path in ("/", "/metrics"):
        assert httpx.get(base + path).status_code == 401
        assert httpx.get(base + path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(base + path, params={"token": "wrong"}).status_code == 401
        assert (
            httpx.get(base + path, headers={"Authorization": f"Bearer {HTTP_TOKEN}"}).status_code
            == 200
        )
        assert httpx.get(base + path, params={"token": HTTP_TOKEN}).status_code == 200
        assert httpx.get(base + path, auth=("anyone", HTTP_TOKEN)).status_code == 200
        denied = httpx.get(base + path)
        assert HTTP_TOKEN not in denied.text
    health = httpx.get(base + "/healthz")  # open without the token, and it says nothing secret
    # only the HTTP server runs here, no scheduler: unhealthy, and it says why
    assert (health.status_code, health.json()) == (
        503,
        {"scheduler": False, "database": True, "last_sync_age_s": None},
    )
    assert HTTP_TOKEN not in health.text


def test_without_token_status_page_is_open_on_loopback(
    daemon_factory: Callable[..., tuple[Daemon, str]],
) -> None:
    _, base = daemon_factory()
    assert httpx.get(base + "/").status_code == 200
    assert httpx.get(base + "/metrics").status_code == 200
