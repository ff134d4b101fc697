"""The local Spotify's accounts service: /authorize, /api/token and the token book.

Tokens expire by the sim's clock (``Accounts.clock``, a callable returning
epoch seconds) so a test can age them without sleeping; refresh tokens can be
revoked to play "the user removed bachbot's access".

As Spotify since mid-2026 (developer blog, 2026-06-18 "Introducing refresh
token expiration"): a refresh token dies ``refresh_lifetime_s`` after the
user's authorization (refreshing does not extend it; the refresh then answers
``invalid_grant``), and with ``rotate_every`` = n every n-th refresh hands out
a new refresh token and retires the old one, so a client that does not store
the new one at once is logged out.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit


@dataclass
class _Grant:
    user_id: str
    scope: str | None
    """Space-separated scopes the user agreed to (None: every scope, for test tokens)."""
    redirect_uri: str = ""
    authorized_at: float = 0.0
    """When the user agreed: the refresh token's lifetime counts from here."""


@dataclass(frozen=True)
class _Access:
    user_id: str
    expires_at: float
    scopes: frozenset[str] | None


def _scopes(scope: str | None) -> frozenset[str] | None:
    return None if scope is None else frozenset(scope.split())


def redirect_problem(uri: str, registered: frozenset[str] | None) -> str | None:
    """Why Spotify refuses ``uri`` at /authorize, or None.

    Since April 2025 Spotify takes only HTTPS or a loopback IP literal over
    HTTP, never ``localhost`` (https://developer.spotify.com/documentation/web-api/concepts/redirect_uri),
    and the URI must equal one registered in the dashboard, character for character.
    """
    parts = urlsplit(uri)
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1"):
        return "INVALID_CLIENT: Insecure redirect URI"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "INVALID_CLIENT: Invalid redirect URI"
    if registered is not None and uri not in registered:
        return "INVALID_CLIENT: Invalid redirect URI"
    return None


@dataclass
class Accounts:
    client_id: str = "bachbot-test-client"
    client_secret: str = "bachbot-test-secret"
    token_lifetime_s: int = 3600
    clock: Callable[[], float] = time.time
    approve_as: str | None = None
    """The user who "clicks Agree" on /authorize (default: the state's default user)."""
    redirect_uris: frozenset[str] | None = None
    """The redirect URIs registered in the dashboard (None: any secure one)."""
    refresh_lifetime_s: float | None = None
    """A refresh token's lifetime from the authorization (Spotify: ~6 months; None: forever)."""
    rotate_every: int = 0
    """Every n-th refresh rotates the refresh token (0: never)."""
    refreshes: int = 0
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _access: dict[str, _Access] = field(default_factory=dict)
    _refresh: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, user_id: str, scope: str | None = None) -> dict[str, Any]:
        """A fresh token set for ``user_id``, as the token endpoint returns it.

        ``scope`` None grants every scope (a test that is not about scopes);
        pass bachbot's own ``SCOPE`` to be held to what bachbot asks for."""
        with self._lock:
            refresh = secrets.token_urlsafe(24)
            self._refresh[refresh] = _Grant(user_id, scope, authorized_at=self.clock())
            return self._access_token(user_id, scope) | {"refresh_token": refresh}

    def _access_token(self, user_id: str, scope: str | None) -> dict[str, Any]:
        access = secrets.token_urlsafe(24)
        self._access[access] = _Access(
            user_id, self.clock() + self.token_lifetime_s, _scopes(scope)
        )
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime_s,
            "scope": "" if scope is None else scope,
        }

    def user_for(self, access_token: str) -> tuple[str | None, str]:
        """(user id, "") for a valid token, else (None, why not)."""
        with self._lock:
            entry = self._access.get(access_token)
        if entry is None:
            return None, "Invalid access token"
        if entry.expires_at <= self.clock():
            return None, "The access token expired"
        return entry.user_id, ""

    def scopes_for(self, access_token: str) -> frozenset[str] | None:
        """The scopes behind a token (None: every scope, or an unknown token)."""
        with self._lock:
            entry = self._access.get(access_token)
        return None if entry is None else entry.scopes

    def expire_access_tokens(self) -> None:
        """Every access token handed out so far expires now (refresh still works)."""
        with self._lock:
            now = self.clock()
            self._access = {k: _Access(a.user_id, now, a.scopes) for k, a in self._access.items()}

    def revoke(self) -> None:
        """The user removed the app: every token and refresh token stops working."""
        with self._lock:
            self._access.clear()
            self._refresh.clear()

    # --- HTTP side --------------------------------------------------------------
    def authorize(self, query: dict[str, str], default_user: str | None) -> tuple[int, str]:
        """(status, Location or error text) for GET /authorize: approves at once."""
        if query.get("client_id") != self.client_id:
            return 400, "INVALID_CLIENT: Invalid client"
        if query.get("response_type") != "code" or not query.get("redirect_uri"):
            return 400, "unsupported_response_type or missing redirect_uri"
        refused = redirect_problem(query["redirect_uri"], self.redirect_uris)
        if refused is not None:
            return 400, refused
        user = self.approve_as or default_user
        if user is None:
            return 400, "the local Spotify has no user to approve as"
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = _Grant(user, query.get("scope", ""), query["redirect_uri"])
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        return 302, f"{query['redirect_uri']}?{urlencode(params)}"

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        """(status, JSON) for POST /api/token."""
        if not self._client_ok(form, authorization):
            return 400, {"error": "invalid_client", "error_description": "Invalid client"}
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                grant = self._codes.pop(form.get("code", ""), None)
                if grant is None:
                    return 400, _invalid_grant("Invalid authorization code")
                if grant.redirect_uri != form.get("redirect_uri"):
                    return 400, _invalid_grant("Invalid redirect URI")
                refresh = secrets.token_urlsafe(24)
                grant.authorized_at = self.clock()
                self._refresh[refresh] = grant
                body = self._access_token(grant.user_id, grant.scope)
                return 200, body | {"refresh_token": refresh}
            if grant_type == "refresh_token":
                return self._refresh_grant(form.get("refresh_token", ""))
        return 400, {"error": "unsupported_grant_type", "error_description": str(grant_type)}

    def _refresh_grant(self, old: str) -> tuple[int, dict[str, Any]]:
        """A refresh (lock held): expired, revoked, rotated or plain."""
        grant = self._refresh.get(old)
        if grant is None:
            return 400, _invalid_grant("Refresh token revoked")
        lifetime = self.refresh_lifetime_s
        if lifetime is not None and self.clock() - grant.authorized_at >= lifetime:
            del self._refresh[old]
            return 400, _invalid_grant("Refresh token expired")
        self.refreshes += 1
        body = self._access_token(grant.user_id, grant.scope)
        if self.rotate_every and self.refreshes % self.rotate_every == 0:
            new = secrets.token_urlsafe(24)
            self._refresh[new] = self._refresh.pop(old)
            body["refresh_token"] = new
        return 200, body

    def _client_ok(self, form: dict[str, str], authorization: str | None) -> bool:
        if authorization and authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[6:]).decode()
            except ValueError:
                return False
            client_id, _, secret = decoded.partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == self.client_id and secret == self.client_secret


def _invalid_grant(description: str) -> dict[str, Any]:
    return {"error": "invalid_grant", "error_description": description}
