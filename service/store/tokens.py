"""The Spotify token in the database (table ``oauth_tokens``), for spotipy's cache protocol.

spotipy reads the token before every request and writes it after each refresh,
through ``get_cached_token`` / ``save_token_to_cache``; the gateway adapts this
store to spotipy's ``CacheHandler`` class, so spotipy stays out of the store.
Each call uses its own short session from the factory, because spotipy calls
in from the middle of a job whose session may hold uncommitted work.
The token is a secret: it is never logged, and ``OAuthToken.__repr__`` hides it.

On SQLite a refresh can happen while the job's own connection holds the
database's single write lock (the job wrote, then called Spotify).  Waiting
for that lock from the same thread would never end, so a refreshed token is
kept in memory and written with a short lock wait; if the write cannot get the
lock it is retried on the next read, once the job has committed.  Losing a
plain refresh to a crash costs nothing (the stored refresh token still works);
losing a *rotated* one (Spotify may hand out a new refresh token and retire
the old) would end the login, so it is written at once whenever the database
lets it, and otherwise on the very next token read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.store.tables import OAuthToken


class DbTokenStore:
    """Keeps one named token_info dict (default name ``"default"``)."""

    def __init__(self, session_factory: Callable[[], Session], name: str = "default") -> None:
        self._session_factory = session_factory
        self.name = name
        self._unsaved: dict[str, Any] | None = None

    def get_cached_token(self) -> dict[str, Any] | None:
        if self._unsaved is not None:
            token = self._unsaved
            self._write(token)
            return dict(token)
        with self._session_factory() as session:
            row = session.get(OAuthToken, self.name)
            return dict(row.token_info) if row is not None else None

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        self._unsaved = dict(token_info)
        self._write(self._unsaved)

    def _write(self, token_info: dict[str, Any]) -> None:
        with self._session_factory() as session:
            sqlite = session.get_bind().dialect.name == "sqlite"
            try:
                if sqlite:
                    session.execute(text("PRAGMA busy_timeout = 200"))
                row = session.get(OAuthToken, self.name)
                if row is None:
                    session.add(OAuthToken(name=self.name, token_info=dict(token_info)))
                else:
                    row.token_info = dict(token_info)
                session.commit()
                self._unsaved = None
            except OperationalError:
                session.rollback()  # locked by the running job: kept in memory, retried
            finally:
                if sqlite:
                    session.execute(text("PRAGMA busy_timeout = 30000"))

    def clear(self) -> None:
        """Forget the token (e.g. before re-authorizing)."""
        self._unsaved = None
        with self._session_factory() as session:
            row = session.get(OAuthToken, self.name)
            if row is not None:
                session.delete(row)
                session.commit()

    def __repr__(self) -> str:
        return f"DbTokenStore(name={self.name!r})"
