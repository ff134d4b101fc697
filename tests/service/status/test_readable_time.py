from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.readable_time import ago, stamp

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=12, seconds=40), "12 minutes ago"),
        (timedelta(hours=3, minutes=59), "3 hours ago"),
        (timedelta(days=26), "26 days ago"),
        (-timedelta(hours=2), "in 2 hours"),
    ],
)
def test_ago_reads_like_a_person_would_say_it(delta: timedelta, said: str) -> None:
    assert ago(NOW - delta, NOW) == said


def test_stamp_says_it_is_utc() -> None:
    other_zone = NOW.astimezone(datetime.now().astimezone().tzinfo)
    assert stamp(other_zone) == "2026-11-28 12:00 UTC"
