"""Connecting bachbot to a Spotify account: the authorization-code flow for a headless server.

The user opens the printed URL in any browser, agrees, and Spotify redirects to
the redirect URI (a loopback IP, e.g. ``http://127.0.0.1:8888/callback``; Spotify
no longer accepts ``localhost``).  Either a one-shot listener on that address
catches the redirect (:func:`wait_for_callback`), or the user pastes the URL the
browser ended on (the page will not load on a remote server; the URL still
holds the code).  The ``state`` is random per attempt and checked; the code is
exchanged at the token endpoint and the token stored through the token store.
Tokens are never printed or logged.
"""

from __future__ import annotations

import secrets
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import requests
import spotipy
from spotipy.cache_handler import CacheHandler

from service.errors import ConfigError
from service.settings import Settings
from service.spotify.errors import SpotifyError, SpotifyNotAuthenticated, SpotifyNotConfigured

SCOPES: dict[str, str] = {
    "playlist-read-private": "list your playlists and read the ones you own (sync)",
    "playlist-read-collaborative": "read collaborative playlists you are part of (sync)",
    "playlist-modify-private": "create and fill the private 'Predicted favourites' (publish)",
    "playlist-modify-public": "fill 'Predicted favourites' when you make it public (publish)",
    "user-library-read": "read Liked Songs and saved albums: likes are the ratings (sync)",
    "user-read-recently-played": "see what you heard, for the exposure signal (sync)",
    "user-top-read": "read your top tracks, a weak positive signal (sync)",
}
"""The least bachbot needs; each with the one reason it is asked for."""

SCOPE = " ".join(SCOPES)


class TokenStore(Protocol):
    """Where the token lives (e.g. :class:`service.store.tokens.DbTokenStore`)."""

    def get_cached_token(self) -> dict[str, Any] | None: ...

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None: ...


class AuthFailed(SpotifyError):
    """The authorization did not complete (denied, wrong state, bad code)."""


class _StoreAdapter(CacheHandler):  # type: ignore[misc]
    """spotipy insists on a CacheHandler subclass; this keeps spotipy out of the store."""

    def __init__(self, store: TokenStore) -> None:
        self.store = store

    def get_cached_token(self) -> dict[str, Any] | None:
        return self.store.get_cached_token()

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        self.store.save_token_to_cache(token_info)


class _HeadlessOAuth(spotipy.SpotifyOAuth):  # type: ignore[misc]
    """spotipy's OAuth, pointed at our accounts base and never prompting on a terminal.

    When spotipy has no usable token it falls back to an interactive prompt; in
    a daemon that would hang forever, so we raise instead.
    """

    def get_auth_response(self, open_browser: bool | None = None) -> str:
        raise SpotifyNotAuthenticated()


def make_oauth(
    settings: Settings, store: TokenStore, *, state: str | None = None
) -> spotipy.SpotifyOAuth:
    """The spotipy auth manager for ``settings`` (shared by the flow and the gateway)."""
    if not settings.has_spotify_credentials:
        raise SpotifyNotConfigured()
    secret = settings.spotify_client_secret
    oauth = _HeadlessOAuth(
        client_id=settings.spotify_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        redirect_uri=settings.spotify_redirect_uri,
        state=state,
        scope=SCOPE,
        requests_session=requests.Session(),
        requests_timeout=settings.spotify_timeout_s,
        open_browser=False,
        cache_handler=_StoreAdapter(store),
    )
    oauth.OAUTH_AUTHORIZE_URL = settings.spotify_accounts_base + "authorize"
    oauth.OAUTH_TOKEN_URL = settings.spotify_accounts_base + "api/token"
    return oauth


class AuthFlow:
    """One authorization attempt: its URL, then :meth:`finish` with the redirected URL."""

    def __init__(self, settings: Settings, store: TokenStore, *, state: str | None = None) -> None:
        self.settings = settings
        self.state = state or secrets.token_urlsafe(16)
        self._oauth = make_oauth(settings, store, state=self.state)

    def authorize_url(self) -> str:
        return str(self._oauth.get_authorize_url(state=self.state))

    def check_pasted(self, text: str) -> str:
        """What the user pasted (``bachbot auth --paste``), checked to be the redirect URL.

        Checked in the order people get it wrong, before :meth:`finish` judges
        the answer itself: not a URL at all, then a URL that is not the redirect
        URI (often the authorize link bachbot printed).  Returns it stripped.
        """
        pasted = text.strip()
        parts = urlsplit(pasted)
        redirect = self.settings.spotify_redirect_uri
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise AuthFailed(
                "what was pasted is not a URL (no http:// or https:// address); paste the whole "
                f"address from the browser's address bar after you agreed (it starts with "
                f"{redirect}?code=)"
            )
        expected = urlsplit(redirect)
        if (parts.hostname, parts.port, parts.path.rstrip("/")) != (
            expected.hostname,
            expected.port,
            expected.path.rstrip("/"),
        ):
            raise AuthFailed(
                f"the pasted URL is not the redirect URL: it should start with {redirect} but "
                f"starts with {parts.scheme}://{parts.netloc}{parts.path}; paste the address "
                "the browser ended on after you agreed, not the link bachbot printed"
            )
        return pasted

    def finish(self, redirected_url: str) -> None:
        """Check the answer, exchange the code and store the token."""
        query = dict(parse_qsl(urlsplit(redirected_url.strip()).query))
        if "error" in query:
            raise AuthFailed(
                f"Spotify did not authorize bachbot ({query['error']}); "
                "run `bachbot auth` again and choose Agree"
            )
        if query.get("state") != self.state:
            raise AuthFailed(
                "the redirected URL does not belong to this authorization attempt "
                "(state mismatch: an old or foreign link); run `bachbot auth` again and use "
                "the link it prints"
            )
        code = query.get("code")
        if not code:
            raise AuthFailed(
                "the pasted URL holds no authorization code; paste the full URL the browser "
                "ended on (it starts with the redirect URI and contains ?code=)"
            )
        try:
            self._oauth.get_access_token(code, as_dict=False, check_cache=False)
        except spotipy.SpotifyOauthError as err:
            raise AuthFailed(
                f"Spotify refused the authorization code ({err.error}); run `bachbot auth` again"
            ) from err
        except requests.RequestException as err:
            raise AuthFailed(
                f"could not reach Spotify's token endpoint ({type(err).__name__}); "
                "check the network and run `bachbot auth` again"
            ) from err


class CallbackPortBusy(ConfigError):
    """The redirect URI's port is taken (often by the running daemon, which then
    completes the login itself at its own /callback)."""


class CallbackListener:
    """A one-shot HTTP listener on the redirect URI's loopback address.

    Bound on construction (so the URL can be opened right after); :meth:`wait`
    returns the full URL of the first request to the redirect path.
    """

    def __init__(self, redirect_uri: str, *, bind_host: str | None = None) -> None:
        """``bind_host`` overrides the address listened on: in a container the
        published loopback port arrives on the container's own interface, so
        the listener binds ``0.0.0.0`` there (BACHBOT_HTTP_HOST)."""
        parts = urlsplit(redirect_uri)
        if parts.hostname not in {"127.0.0.1", "::1"}:
            raise ConfigError(
                f"the callback listener needs a loopback redirect URI, got {redirect_uri}; "
                "use `bachbot auth --paste` instead"
            )
        self._path = parts.path or "/"
        self._received: str | None = None
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if urlsplit(self.path).path != listener._path:
                    self.send_error(404)
                    return
                listener._received = f"{parts.scheme}://{parts.netloc}{self.path}"
                body = b"<html><body><h1>bachbot: done, you can close this tab.</h1></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """The URL holds the code: never log it."""

        try:
            self._server = HTTPServer((bind_host or parts.hostname, parts.port or 80), Handler)
        except OSError as err:
            raise CallbackPortBusy(
                f"cannot listen on {parts.hostname}:{parts.port} for the callback ({err}); "
                "stop what uses that port or run `bachbot auth --paste`"
            ) from err

    def wait(self, timeout_s: float = 300.0) -> str:
        deadline = time.monotonic() + timeout_s
        while self._received is None and (left := deadline - time.monotonic()) > 0:
            self._server.timeout = left
            self._server.handle_request()
        if self._received is None:
            raise AuthFailed(
                f"no redirect arrived within {timeout_s:.0f} s; run `bachbot auth` again, "
                "or `bachbot auth --paste` when the browser is on another machine"
            )
        return self._received

    def close(self) -> None:
        self._server.server_close()

    def __enter__(self) -> CallbackListener:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
