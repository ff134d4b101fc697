"""Application state: typed slots, tolerant reads, and no key spelled anywhere else."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from service.store import app_state
from service.store.app_state import (
    BOT_PLAYLIST,
    PENDING_PUBLICATION,
    SPOTIFY_RESUME_AT,
    Failing,
    PendingPublication,
    Slot,
    job_backoff,
    note_failure,
    note_recovery,
    provider_failing,
)
from service.store.tables import AppState

ROOT = Path(__file__).resolve().parents[3]
FAMILIES = ("backoff.", "provider.")
"""Prefixes of the keys made per job or provider (``job_backoff(job)`` ...)."""


def all_keys() -> list[str]:
    return [v.key for v in vars(app_state).values() if isinstance(v, Slot)]


def test_no_state_key_is_spelled_outside_the_state_module() -> None:
    keys = all_keys()
    assert len(keys) >= 12
    literal = re.compile(
        "|".join(
            [
                *(re.escape(repr(k)[1:-1]) for k in keys),
                *(re.escape(p) + r"[a-z_{]" for p in FAMILIES),
            ]
        )
    )
    quoted = re.compile(r"""(["'])(?:(?!\1).)*?\1""")
    offenders = []
    for folder in ("service", "jobs", "models", "bench", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "app_state.py" or path == Path(__file__).resolve():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for match in quoted.finditer(line):
                    if literal.search(match.group(0)):
                        offenders.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
    assert offenders == []


def test_slots_round_trip_typed_values(session: Session) -> None:
    when = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    BOT_PLAYLIST.put(session, "pl1")
    SPOTIFY_RESUME_AT.put(session, when)
    PENDING_PUBLICATION.put(session, PendingPublication("pl1", ("a", "b")))
    assert BOT_PLAYLIST.get(session) == "pl1"
    assert SPOTIFY_RESUME_AT.get(session) == when
    assert PENDING_PUBLICATION.get(session) == PendingPublication("pl1", ("a", "b"))
    BOT_PLAYLIST.clear(session)
    assert BOT_PLAYLIST.get(session) is None


def test_an_unreadable_value_reads_as_absent(session: Session) -> None:
    session.add(AppState(key=SPOTIFY_RESUME_AT.key, value="not a time"))
    session.add(AppState(key=PENDING_PUBLICATION.key, value=["not", "a", "mapping"]))
    session.flush()
    assert SPOTIFY_RESUME_AT.get(session) is None
    assert PENDING_PUBLICATION.get(session) is None


def test_failures_count_up_and_recover_once(session: Session) -> None:
    slot = job_backoff("sync")
    first = note_failure(session, slot, "boom")
    second = note_failure(session, slot, "boom again", retry_at=lambda n: datetime(2026, 1, n))
    assert (first.failures, second.failures) == (1, 2)
    assert slot.get(session) == Failing(2, "boom again", datetime(2026, 1, 2))
    assert note_recovery(session, slot) is True
    assert note_recovery(session, slot) is False
    assert slot.get(session) is None


def test_a_provider_failing_note_of_the_old_layout_still_reads(session: Session) -> None:
    session.add(AppState(key=provider_failing("reccobeats").key, value="503 from ReccoBeats"))
    session.flush()
    assert provider_failing("reccobeats").get(session) == Failing(1, "503 from ReccoBeats")
