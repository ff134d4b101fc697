"""Account-wide 403s: Spotify refuses the whole app or user, not one resource.

The app owner's Premium lapsed, the user is missing from the dashboard's
allow-list, or the app's quota is used up: every call answers 403.  bachbot must
pause all Spotify work with a status line that says what to do, mark nothing as
refused for good (not the user's own playlist, not a feature provider), lose no
rating, and pick up by itself once Spotify answers again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from service.spotify_sim import Fault
from service.store.app_state import SPOTIFY_BLOCKED
from service.store.playlists import unreadable_playlists
from service.store.tables import Rating

from .conftest import World

CASES = [
    (Fault.owner_premium_lapsed(), "owner's Premium lapsed", "renew Premium"),
    (Fault.user_not_registered(), "user not registered", "User Management"),
    (Fault.app_quota_exceeded(), "app quota exceeded (403)", "quota"),
]


def statuses(report: Any) -> dict[str, str]:
    return {o.job: o.status for o in report.outcomes}


@pytest.mark.parametrize(("fault", "name", "advice"), CASES, ids=[c[1] for c in CASES])
def test_account_wide_403_pauses_spotify_and_marks_nothing_refused(
    world: World,
    cli: Callable[..., tuple[int, str, str]],
    fault: Fault,
    name: str,
    advice: str,
) -> None:
    before = world.warm_up()
    with world.sessions() as session:
        refused_before = {p.id for p in unreadable_playlists(session=session)}
    liked = world.listener_likes(2)
    for route in ("GET /me/playlists", "GET /playlists/{id}/items", "GET /me/tracks", "GET /me"):
        world.sim.faults.inject(route, fault)
    (first,) = world.run(1)
    assert statuses(first)["sync"] == "failed"
    assert advice in (first.by_job()["sync"].error or "")
    assert statuses(first)["publish"] == "skipped"
    assert statuses(first)["features"] == statuses(first)["score"] == "ok"

    with world.sessions() as session:
        assert SPOTIFY_BLOCKED.get(session) is not None
        refused = {p.id for p in unreadable_playlists(session=session)}
        assert refused == refused_before, "a playlist was marked unreadable by a 403 on all"
    code, out, _ = cli("status")
    assert code == 0 and advice in out, out

    world.sim.faults.clear()  # the user fixed it in the dashboard; bachbot is not told
    (clean,) = world.run(1)
    assert statuses(clean)["sync"] == statuses(clean)["publish"] == "ok", clean.outcomes
    with world.sessions() as session:
        assert SPOTIFY_BLOCKED.get(session) is None
    world.verify(f"403 account-wide: {name}", tries=2, before=before, clean=clean)
    with world.sessions() as session:
        rated = set(session.scalars(select(Rating.track_id)))
    assert set(liked) <= rated, "the likes made during the pause were lost"
