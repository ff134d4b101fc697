"""`bachbot auth` while the daemon owns the redirect port: the daemon's /callback finishes it."""

from __future__ import annotations

import socket

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.daemon import Daemon
from service.login import begin_pending, complete_pending
from service.settings import Settings
from service.spotify.auth import AuthFlow
from service.spotify_sim import SpotifySim
from service.store.app_state import AUTH_REVOKED, PENDING_LOGIN
from service.store.tables import OAuthToken
from service.store.tokens import DbTokenStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(120)
def test_daemon_callback_completes_a_pending_login_and_refuses_others(
    spotify_settings: Settings,
    spotify_sim: SpotifySim,
    engine: Engine,
    sessions: sessionmaker[Session],
) -> None:
    port = _free_port()
    settings = spotify_settings.model_copy(
        update={"http_port": port, "spotify_redirect_uri": f"http://127.0.0.1:{port}/callback"}
    )
    daemon = Daemon(
        settings,
        engine=engine,
        on_callback=lambda url: complete_pending(url, settings=settings, sessions=sessions),
    )
    daemon.start_http()
    try:
        base = f"http://127.0.0.1:{port}"
        # No login in progress: a callback is refused and nothing is stored.
        stray = httpx.get(f"{base}/callback", params={"code": "x", "state": "forged"})
        assert stray.status_code == 400
        with sessions() as session:
            assert session.get(OAuthToken, "default") is None
            AUTH_REVOKED.put(session, "revoked earlier")
            session.commit()

        flow = AuthFlow(settings, DbTokenStore(sessions))
        begin_pending(sessions=sessions, flow=flow)
        # A redirect carrying another state is refused, the pending login survives.
        forged = httpx.get(f"{base}/callback", params={"code": "x", "state": "forged"})
        assert forged.status_code == 400 and "state" in forged.text
        # The browser: authorize at the local Spotify, follow its redirect to the daemon.
        answer = httpx.get(flow.authorize_url(), follow_redirects=True)
        assert answer.status_code == 200 and "connected" in answer.text
        with sessions() as session:
            token = session.get(OAuthToken, "default")
            assert token is not None and token.token_info["access_token"]
            assert PENDING_LOGIN.get(session) is None
            assert AUTH_REVOKED.get(session) is None
        assert token.token_info["access_token"] not in answer.text
    finally:
        daemon.stop()
