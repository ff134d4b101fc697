"""The command-line tests drive the same worlds as the jobs they run."""

from __future__ import annotations

from tests.jobs.publish.conftest import scored_factory
from tests.jobs.sync.conftest import library

__all__ = ["library", "scored_factory"]
