"""Security checks share the suite's fixtures; this only keeps log handlers tidy."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_log_handlers() -> Iterator[None]:
    """``bachbot ...`` run in-process adds a stderr handler bound to pytest's capture;
    left on the root logger it would write to a closed stream in later tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
