"""The jobs' tests describe tracks with the feature providers' fixtures."""

from __future__ import annotations

from tests.models.features.conftest import add_tracks, http_client

__all__ = ["add_tracks", "http_client"]
