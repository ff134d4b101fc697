"""The Spotify login's health as the status page shows it: token present, revoked, refreshed.

Read-only: the token itself is a secret and never leaves this module, only
whether it exists and when it was last stored (at login or at a refresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from service.store.app_state import AUTH_REVOKED
from service.store.tables import OAuthToken


@dataclass(frozen=True)
class TokenHealth:
    present: bool
    revoked_reason: str | None
    """Why Spotify work is paused until ``bachbot auth`` (None: not revoked)."""
    refreshed_at: datetime | None
    """When the token was last stored: at the login or at the latest refresh."""
    expires_at: datetime | None
    """When the current access token runs out (bachbot refreshes it by itself)."""


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
    )
