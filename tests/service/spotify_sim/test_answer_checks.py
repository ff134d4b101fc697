"""The answer checks a schema cannot express: paging that agrees, dates, error status."""

from __future__ import annotations

from typing import Any

import pytest

from service.spotify_sim.answer_checks import problems


def _page(**change: Any) -> dict[str, Any]:
    page = {"items": [{}, {}], "limit": 2, "offset": 0, "total": 3, "next": "n", "href": "h"}
    return {**page, **change}


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (_page(), None),
        (_page(offset=1, next=None), None),
        (_page(offset=1000, items=[], next=None), None),  # past the end: empty, not wrong
        (_page(offset=1), "a next link on the last page"),
        (_page(next=None), "no next link, yet 1 more items"),
        (_page(items=[{}, {}, {}]), "3 items on a page of limit 2"),
        (_page(total=1, next=None), "items up to 2 but total 1"),
        ({"tracks": _page(offset=1)}, "/tracks: a next link on the last page"),
        ({"added_at": "2026-01-01T00:00:00Z"}, None),
        ({"added_at": "2026-01-01 00:00"}, "not an ISO timestamp"),
        ({"release_date": "1982", "release_date_precision": "year"}, None),
        ({"release_date": "1982", "release_date_precision": "day"}, "does not match precision"),
    ],
)
def test_inconsistent_answers_are_named(body: dict[str, Any], complaint: str | None) -> None:
    found = problems(200, body)
    if complaint is None:
        assert found == []
    else:
        assert any(complaint in f for f in found), found


def test_error_body_status_must_match_the_http_status() -> None:
    assert problems(404, {"error": {"status": 404, "message": "x"}}) == []
    assert problems(404, {"error": {"status": 400, "message": "x"}}) != []


def test_a_write_that_keeps_the_snapshot_is_a_violation(spotify_sim: Any, library: Any) -> None:
    import requests

    from service.spotify_sim.spec import SpecViolation

    playlist = spotify_sim.state.playlists[library.own_playlist]
    original = playlist.touch
    playlist.touch = lambda: None  # type: ignore[method-assign]  # a sim bug, on purpose
    bearer = spotify_sim.issue_token()["access_token"]
    answer = requests.put(
        spotify_sim.api_base + f"playlists/{library.own_playlist}",
        json={"name": "renamed"},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert answer.status_code == 200
    with pytest.raises(SpecViolation, match="snapshot_id unchanged"):
        spotify_sim.assert_valid()
    spotify_sim.violations.clear()
    playlist.touch = original  # type: ignore[method-assign]
