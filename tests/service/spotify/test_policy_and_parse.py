"""Pure decisions and parsers of the gateway, by tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from service.spotify import parse
from service.spotify.policy import backoff_delay, classify, retry_after


@pytest.mark.parametrize(
    ("status", "headers", "text", "kind", "wait", "quota"),
    [
        (429, {"Retry-After": "30"}, "rate limit", "wait", 30.0, False),
        (429, {"retry-after": "7200"}, "", "wait", 7200.0, False),
        (429, {}, "x: QUOTA_EXCEEDED: daily quota", "wait", 1.0, True),
        (429, {"Retry-After": "soon"}, "", "wait", 1.0, False),
        (500, {}, "", "retry", 0.0, False),
        (502, {}, "", "retry", 0.0, False),
        (503, {}, "", "retry", 0.0, False),
        (401, {}, "The access token expired", "refresh", 0.0, False),
        (403, {}, "Forbidden", "forbidden", 0.0, False),
        (404, {}, "", "not_found", 0.0, False),
        (400, {}, "Invalid limit", "bad_request", 0.0, False),
    ],
)
def test_classify_error_answers(
    status: int, headers: dict[str, str], text: str, kind: str, wait: float, quota: bool
) -> None:
    outcome = classify(status, headers, text)
    assert (outcome.kind, outcome.retry_after_s, outcome.quota_exceeded) == (kind, wait, quota)


@pytest.mark.parametrize(
    ("headers", "seconds"), [({}, 1.0), ({"Retry-After": "-5"}, 0.0), ({"Retry-After": "2.5"}, 2.5)]
)
def test_retry_after_header(headers: dict[str, str], seconds: float) -> None:
    assert retry_after(headers) == seconds


@pytest.mark.parametrize(
    ("failures", "jitter", "delay"),
    [(1, 0.0, 0.25), (1, 1.0, 0.5), (2, 0.0, 0.5), (3, 1.0, 2.0)],
)
def test_backoff_doubles_with_jitter_between_half_and_full(
    failures: int, jitter: float, delay: float
) -> None:
    assert backoff_delay(0.5, failures, jitter) == delay


TRACK: dict[str, Any] = {
    "type": "track",
    "id": "t1",
    "name": "Aria",
    "artists": [{"id": "a1", "name": "Bach"}],
    "album": {"id": "al1", "name": "Goldberg", "album_type": "album", "artists": []},
    "duration_ms": 1000,
    "external_ids": {"isrc": "X"},
    "track_number": 1,
    "is_local": False,
}


@pytest.mark.parametrize(
    ("item", "track_id"),
    [
        ({"added_at": "2026-01-01T00:00:00Z", "item": TRACK}, "t1"),
        ({"added_at": "2026-01-01T00:00:00Z", "track": TRACK}, "t1"),  # grandfathered apps
        ({"added_at": None, "item": {**TRACK, "type": "episode"}}, None),
        ({"added_at": None, "is_local": True, "item": {**TRACK, "id": None}}, None),
        ({"added_at": None, "item": None}, None),
    ],
)
def test_playlist_items_keep_only_real_tracks(item: dict[str, Any], track_id: str | None) -> None:
    parsed = parse.playlist_item(item, 4)
    assert parsed.position == 4
    assert (parsed.track.id if parsed.track else None) == track_id


def test_times_are_utc_aware() -> None:
    assert parse.parse_time("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse.parse_time(None) is None


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ({"offset": 0, "items": [1, 2], "next": "http://x"}, 2),
        ({"offset": 10, "items": [1], "next": None}, None),
    ],
)
def test_next_offset(page: dict[str, Any], expected: int | None) -> None:
    assert parse.next_offset(page) == expected


def test_playlist_summary_reads_items_or_legacy_tracks_total() -> None:
    base = {"id": "p", "name": "n", "owner": {"id": "o"}, "snapshot_id": "s"}
    assert parse.playlist({**base, "items": {"total": 3}}).items_total == 3
    assert parse.playlist({**base, "tracks": {"total": 4}}).items_total == 4
