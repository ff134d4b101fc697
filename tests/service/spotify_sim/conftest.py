"""The local Spotify's tests use the gateway tests' library."""

from __future__ import annotations

from tests.service.spotify.conftest import library

__all__ = ["library"]
