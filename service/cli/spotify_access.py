"""When a command needs Spotify: checked before anything is opened, asked only when needed.

Two rules the first ten minutes taught:

* a command that cannot work without Spotify (``sync``, ``publish``, ``auth``)
  says so *before* it opens (and so creates) the database: missing client
  credentials are a setting to fix (exit 2), and a SQLite database that does
  not exist yet cannot hold a token (run ``bachbot auth``);
* a command that needs Spotify only for some inputs (``rate``,
  ``import-ratings``: only for tracks bachbot does not know yet) gets a
  :class:`SpotifyOnDemand`, which builds the gateway at the first real call.
  Rating a known track needs no credentials at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.settings import Settings
    from service.spotify.gateway import SpotifyGateway
    from service.spotify.types import TrackInfo


def require_spotify(settings: Settings, *, need: str, token: bool = True) -> None:
    """Raise unless a Spotify call can be made at all: credentials set, and (``token``)
    a database that can hold a token.  ``need`` says why, e.g. ``bachbot sync talks to
    Spotify``."""
    from service.spotify.errors import SpotifyNotAuthenticated, SpotifyNotConfigured
    from service.store.db import database_exists

    if not settings.has_spotify_credentials:
        raise SpotifyNotConfigured(need)
    if token and not database_exists(settings):
        raise SpotifyNotAuthenticated()


class SpotifyOnDemand:
    """The gateway, built at the first call (a ``jobs.ratings.TrackSource``)."""

    def __init__(self, build: Callable[[], SpotifyGateway], *, settings: Settings) -> None:
        self._build = build
        self._settings = settings
        self._gateway: SpotifyGateway | None = None

    def track(self, track_id: str) -> TrackInfo:
        if self._gateway is None:
            require_spotify(
                self._settings,
                need=f"track {track_id} is new to bachbot and must be fetched from Spotify",
                token=False,
            )
            self._gateway = self._build()
        return self._gateway.track(track_id)
