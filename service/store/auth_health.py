"""The Spotify login's health as the status page shows it: token present, revoked, refreshed.

Read-only: the token itself is a secret and never leaves this module, only
whether it exists and when it was last stored (at login or at a refresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from service.store.app_state import AUTH_REVOKED, LOGGED_IN_AT
from service.store.tables import OAuthToken

LOGIN_LIFETIME = timedelta(days=182)
"""Spotify's refresh tokens die 6 months after the user's authorization, however
often they are refreshed (developer blog 2026-06-18, "Introducing refresh token
expiration"); a day short of it, so the date shown is never a day late."""


@dataclass(frozen=True)
class TokenHealth:
    present: bool
    revoked_reason: str | None
    """Why Spotify work is paused until ``bachbot auth`` (None: not revoked)."""
    refreshed_at: datetime | None
    """When the token was last stored: at the login or at the latest refresh."""
    expires_at: datetime | None
    """When the current access token runs out (bachbot refreshes it by itself)."""
    logged_in_at: datetime | None = None
    """When ``bachbot auth`` last completed (None: before bachbot kept it)."""

    @property
    def log_in_again_by(self) -> datetime | None:
        """The last day the login works: Spotify refuses the refresh after it."""
        return None if self.logged_in_at is None else self.logged_in_at + LOGIN_LIFETIME


def token_health(*, session: Session, name: str = "default") -> TokenHealth:
    row = session.get(OAuthToken, name)
    revoked = AUTH_REVOKED.get(session)
    expires = None if row is None else row.token_info.get("expires_at")
    return TokenHealth(
        present=row is not None,
        revoked_reason=str(revoked) if revoked else None,
        refreshed_at=None if row is None else row.updated_at,
        expires_at=(
            datetime.fromtimestamp(int(expires), UTC)
            if isinstance(expires, int | float) and not isinstance(expires, bool)
            else None
        ),
        logged_in_at=LOGGED_IN_AT.get(session) if row is not None else None,
    )
