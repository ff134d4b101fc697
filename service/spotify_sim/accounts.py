"""The local Spotify's accounts service: /authorize, /api/token and the token book.

Tokens expire by the sim's clock (``Accounts.clock``, a callable returning
epoch seconds) so a test can age them without sleeping; refresh tokens can be
revoked to play "the user removed bachbot's access".
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode


@dataclass
class _Grant:
    user_id: str
    scope: str
    redirect_uri: str = ""


@dataclass
class Accounts:
    client_id: str = "bachbot-test-client"
    client_secret: str = "bachbot-test-secret"
    token_lifetime_s: int = 3600
    clock: Callable[[], float] = time.time
    approve_as: str | None = None
    """The user who "clicks Agree" on /authorize (default: the state's default user)."""
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _access: dict[str, tuple[str, float]] = field(default_factory=dict)
    _refresh: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, user_id: str, scope: str = "") -> dict[str, Any]:
        """A fresh token set for ``user_id``, as the token endpoint returns it."""
        with self._lock:
            refresh = secrets.token_urlsafe(24)
            self._refresh[refresh] = _Grant(user_id, scope)
            return self._access_token(user_id, scope) | {"refresh_token": refresh}

    def _access_token(self, user_id: str, scope: str) -> dict[str, Any]:
        access = secrets.token_urlsafe(24)
        self._access[access] = (user_id, self.clock() + self.token_lifetime_s)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime_s,
            "scope": scope,
        }

    def user_for(self, access_token: str) -> tuple[str | None, str]:
        """(user id, "") for a valid token, else (None, why not)."""
        with self._lock:
            entry = self._access.get(access_token)
        if entry is None:
            return None, "Invalid access token"
        if entry[1] <= self.clock():
            return None, "The access token expired"
        return entry[0], ""

    def expire_access_tokens(self) -> None:
        """Every access token handed out so far expires now (refresh still works)."""
        with self._lock:
            now = self.clock()
            self._access = {k: (u, now) for k, (u, _) in self._access.items()}

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
                self._refresh[refresh] = grant
                body = self._access_token(grant.user_id, grant.scope)
                return 200, body | {"refresh_token": refresh}
            if grant_type == "refresh_token":
                grant = self._refresh.get(form.get("refresh_token", ""))
                if grant is None:
                    return 400, _invalid_grant("Refresh token revoked")
                return 200, self._access_token(grant.user_id, grant.scope)
        return 400, {"error": "unsupported_grant_type", "error_description": str(grant_type)}

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
