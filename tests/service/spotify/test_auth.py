"""Connecting an account end to end against the local Spotify: callback, paste, wrong state."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings
from service.spotify.auth import SCOPES, AuthFailed, AuthFlow, CallbackListener
from service.spotify_sim import SpotifySim
from service.store.tokens import DbTokenStore


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def auth_settings(spotify_settings: Settings) -> Settings:
    return spotify_settings.model_copy(
        update={"spotify_redirect_uri": f"http://127.0.0.1:{_free_port()}/callback"}
    )


@pytest.fixture
def store(sessions: sessionmaker[Session]) -> DbTokenStore:
    return DbTokenStore(sessions)


def _browser_lands_on(authorize_url: str) -> str:
    """What the user's browser ends on after agreeing: the redirect URI with code and state."""
    answer = requests.get(authorize_url, allow_redirects=False)
    assert answer.status_code == 302
    return str(answer.headers["Location"])


def test_callback_path_stores_a_working_token(
    auth_settings: Settings, store: DbTokenStore, spotify_sim: SpotifySim
) -> None:
    flow = AuthFlow(auth_settings, store)
    with CallbackListener(auth_settings.spotify_redirect_uri) as listener:
        browser = threading.Thread(target=requests.get, args=(flow.authorize_url(),))
        browser.start()
        redirected = listener.wait(timeout_s=30)
        browser.join()
    flow.finish(redirected)
    token = store.get_cached_token()
    assert token is not None and token["refresh_token"]
    assert set(token["scope"].split()) == set(SCOPES)


def test_paste_path_stores_the_token(
    auth_settings: Settings, store: DbTokenStore, spotify_sim: SpotifySim
) -> None:
    flow = AuthFlow(auth_settings, store)
    flow.finish("  " + _browser_lands_on(flow.authorize_url()) + "\n")
    assert store.get_cached_token() is not None


def test_authorize_url_asks_for_the_least_scopes_and_a_random_state(
    auth_settings: Settings, store: DbTokenStore, spotify_sim: SpotifySim
) -> None:
    first, second = AuthFlow(auth_settings, store), AuthFlow(auth_settings, store)
    url = first.authorize_url()
    assert url.startswith(spotify_sim.accounts_base + "authorize?")
    assert first.state != second.state and f"state={first.state}" in url
    assert "user-read-private" not in url and "user-library-modify" not in url


def test_wrong_state_is_refused_and_nothing_stored(
    auth_settings: Settings, store: DbTokenStore, spotify_sim: SpotifySim
) -> None:
    stale, current = AuthFlow(auth_settings, store), AuthFlow(auth_settings, store)
    landed = _browser_lands_on(stale.authorize_url())
    with pytest.raises(AuthFailed, match=r"state mismatch.*run `bachbot auth` again"):
        current.finish(landed)
    assert store.get_cached_token() is None


@pytest.mark.parametrize(
    ("landed", "complaint"),
    [
        ("http://127.0.0.1:1/callback?error=access_denied&state={state}", "did not authorize"),
        ("http://127.0.0.1:1/callback?state={state}", "no authorization code"),
        ("http://127.0.0.1:1/callback?code=forged&state={state}", "refused the authorization"),
    ],
)
def test_failed_authorizations_say_what_to_do(
    auth_settings: Settings,
    store: DbTokenStore,
    spotify_sim: SpotifySim,
    landed: str,
    complaint: str,
) -> None:
    flow = AuthFlow(auth_settings, store)
    with pytest.raises(AuthFailed, match=complaint):
        flow.finish(landed.format(state=flow.state))
    assert store.get_cached_token() is None


def test_token_store_round_trip_and_hidden_repr(store: DbTokenStore) -> None:
    assert store.get_cached_token() is None
    store.save_token_to_cache({"access_token": "secret-a", "refresh_token": "r"})
    store.save_token_to_cache({"access_token": "secret-b", "refresh_token": "r"})
    assert store.get_cached_token() == {"access_token": "secret-b", "refresh_token": "r"}
    assert "secret" not in repr(store)
    store.clear()
    assert store.get_cached_token() is None


def _cli_env(sim: SpotifySim, settings: Settings) -> dict[str, str]:
    return {
        "BACHBOT_SPOTIFY_API_BASE": sim.api_base,
        "BACHBOT_SPOTIFY_ACCOUNTS_BASE": sim.accounts_base,
        "BACHBOT_SPOTIFY_REDIRECT_URI": settings.spotify_redirect_uri,
    }


def test_bachbot_auth_paste(
    cli: Callable[..., tuple[int, str, str]],
    auth_settings: Settings,
    spotify_sim: SpotifySim,
    sessions: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    printed: list[str] = []

    class Browser:
        """stdin that, when asked, plays the user: opens the printed URL, pastes where it lands."""

        def readline(self) -> str:
            out = capsys.readouterr().out
            printed.append(out)
            url = re.search(r"(http://\S+/authorize\?\S+)", out)
            assert url, out
            return _browser_lands_on(url.group(1)) + "\n"

    monkeypatch.setattr("sys.stdin", Browser())
    code, out, err = cli("auth", "--paste", env=_cli_env(spotify_sim, auth_settings))
    assert code == 0, err
    assert "Connected to Spotify as The Listener" in out
    token = DbTokenStore(sessions).get_cached_token()
    assert token is not None
    for secret in (token["access_token"], token["refresh_token"]):
        assert secret not in out + err + "".join(printed)


def test_bachbot_auth_callback(
    cli: Callable[..., tuple[int, str, str]],
    auth_settings: Settings,
    spotify_sim: SpotifySim,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The user's browser follows the printed URL while the command listens for the redirect."""
    printed: list[str] = []
    url_ready = threading.Event()
    original = AuthFlow.authorize_url

    def authorize_url(self: AuthFlow) -> str:
        printed.append(original(self))  # the command binds its listener before this
        url_ready.set()
        return printed[-1]

    monkeypatch.setattr(AuthFlow, "authorize_url", authorize_url)

    def browser() -> None:
        if url_ready.wait(timeout=30):
            requests.get(printed[-1])

    user = threading.Thread(target=browser)
    user.start()
    try:
        code, out, err = cli("auth", "--timeout", "30", env=_cli_env(spotify_sim, auth_settings))
    finally:
        url_ready.set()
        user.join()
    assert code == 0, err
    assert printed[-1] in out
    assert "Connected to Spotify as The Listener" in out
    assert DbTokenStore(sessions).get_cached_token() is not None


@pytest.mark.parametrize(
    ("pasted", "complaint"),
    [
        ("yes", "is not a URL"),
        ("", "is not a URL"),
        ("127.0.0.1:8888/callback?code=x", "is not a URL"),
        ("https://accounts.spotify.com/authorize?client_id=x", "is not the redirect URL"),
        ("http://127.0.0.1:8888/elsewhere?code=x", "is not the redirect URL"),
    ],
)
def test_pasting_something_else_than_the_redirect_url_says_so(
    auth_settings: Settings, store: DbTokenStore, pasted: str, complaint: str
) -> None:
    flow = AuthFlow(auth_settings, store)
    with pytest.raises(AuthFailed, match=complaint) as refused:
        flow.check_pasted(pasted)
    assert "state mismatch" not in str(refused.value)
    assert auth_settings.spotify_redirect_uri in str(refused.value)


def test_the_redirect_url_passes_the_paste_check(
    auth_settings: Settings, store: DbTokenStore
) -> None:
    flow = AuthFlow(auth_settings, store)
    landed = f"  {auth_settings.spotify_redirect_uri}?code=abc&state={flow.state}\n"
    assert flow.check_pasted(landed) == landed.strip()


def test_auth_paste_of_a_non_url_is_one_line_saying_so(
    cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("I agreed\n"))
    code, out, err = cli("auth", "--paste")
    assert code == 1
    assert "Open this URL in a browser" in out
    assert err.strip().splitlines() == [
        "bachbot: what was pasted is not a URL (no http:// or https:// address); paste the "
        "whole address from the browser's address bar after you agreed (it starts with "
        "http://127.0.0.1:8888/callback?code=)"
    ]
