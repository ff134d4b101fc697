"""One bachbot per database: a second holder is refused with a message saying what to do."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from service.errors import LockHeld
from service.lock import process_lock
from service.settings import Settings
from service.store.db import make_engine


def test_second_holder_is_refused_until_the_first_lets_go(
    engine: Engine, settings: Settings
) -> None:
    other = make_engine(settings)  # as another process would connect
    try:
        with process_lock(engine, what="bachbot run"):
            with (
                pytest.raises(LockHeld, match="another bachbot process") as refused,
                process_lock(other, what="bachbot sync"),
            ):
                pass
            assert "bachbot sync did not start" in str(refused.value)
            assert "stop it" in str(refused.value) or "stop the daemon" in str(refused.value)
        with process_lock(other, what="bachbot sync"):
            pass
    finally:
        other.dispose()


def test_waiting_holder_gets_the_lock_within_its_wait(engine: Engine, settings: Settings) -> None:
    import threading

    other = make_engine(settings)
    release = threading.Event()
    held = threading.Event()

    def first() -> None:
        with process_lock(engine):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert held.wait(10)
        threading.Timer(0.5, release.set).start()
        with process_lock(other, wait_s=20, what="bachbot sync"):
            assert not thread.is_alive() or release.is_set()
    finally:
        release.set()
        thread.join(10)
        other.dispose()
