"""The login handshake between ``bachbot auth`` and a running daemon.

While ``bachbot run`` is up it owns the redirect URI's port, so ``bachbot
auth`` cannot listen there itself.  It records the attempt's state as
pending in the database instead; the daemon's ``/callback`` accepts a
redirect only for that pending state, finishes the exchange, and clears it.
Either way a successful login lifts the "access revoked" pause on Spotify
jobs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings
from service.spotify.auth import AuthFailed, AuthFlow
from service.store.app_state import AUTH_REVOKED, LOGGED_IN_AT, PENDING_LOGIN, PendingLogin
from service.store.db import transaction
from service.store.tables import utcnow
from service.store.tokens import DbTokenStore

PENDING_TTL = timedelta(minutes=15)


def mark_connected(*, session: Session) -> None:
    """A new token is stored: Spotify jobs may run again, and the login's clock restarts."""
    AUTH_REVOKED.clear(session)
    LOGGED_IN_AT.put(session, utcnow())


def begin_pending(*, sessions: sessionmaker[Session], flow: AuthFlow) -> None:
    with transaction(sessions) as session:
        PENDING_LOGIN.put(session, PendingLogin(flow.state, utcnow()))


def pending_login(*, sessions: sessionmaker[Session]) -> PendingLogin | None:
    with sessions() as session:
        return PENDING_LOGIN.get(session)


def complete_pending(url: str, *, settings: Settings, sessions: sessionmaker[Session]) -> str:
    """Finish a pending login from the daemon's /callback; refuses any other state."""
    pending = pending_login(sessions=sessions)
    if pending is None or utcnow() - pending.created_at > PENDING_TTL:
        raise AuthFailed("no login is in progress here; run `bachbot auth` and use its link")
    AuthFlow(settings, DbTokenStore(sessions), state=pending.state).finish(url)
    with transaction(sessions) as session:
        PENDING_LOGIN.clear(session)
        mark_connected(session=session)
    return "bachbot is connected to Spotify; you can close this tab."


def wait_for_completion(
    *,
    sessions: sessionmaker[Session],
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Wait until the daemon has consumed the pending login; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pending_login(sessions=sessions) is None:
            return True
        sleep(0.5)
    with transaction(sessions) as session:
        PENDING_LOGIN.clear(session)
    return False
