"""Logins that age: rotated refresh tokens, Spotify's 6-month expiry, a reset client secret.

Each fault is played by the local Spotify's accounts service as real Spotify
answers it; bachbot must keep the rotated token (the old one no longer works),
pause with "run `bachbot auth`" on ``invalid_grant``, tell a bad client secret
apart from both, lose nothing, and say in `bachbot status` what to do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from service.http import _DatabaseCollector
from service.login import mark_connected
from service.spotify.auth import SCOPE
from service.spotify_sim import Fault
from service.store.db import transaction
from service.store.tables import OAuthToken

from .conftest import LISTENER, World

SIX_MONTHS_S = 183 * 24 * 3600


def statuses(report: Any) -> dict[str, str]:
    return {o.job: o.status for o in report.outcomes}


def _stored_refresh_token(world: World) -> str:
    with world.sessions() as session:
        row = session.get(OAuthToken, "default")
        assert row is not None
        return str(row.token_info["refresh_token"])


def test_rotated_refresh_token_is_stored_at_once(world: World) -> None:
    before = world.warm_up()
    world.sim.accounts.rotate_every = 1  # every refresh hands out a new refresh token
    first_refresh = _stored_refresh_token(world)
    world.sim.accounts.expire_access_tokens()
    world.listener_likes(2)
    (rotated,) = world.run(1)
    assert set(statuses(rotated).values()) == {"ok"}, rotated.outcomes
    second_refresh = _stored_refresh_token(world)
    assert second_refresh != first_refresh, "the rotated refresh token was not stored"
    world.sim.accounts.expire_access_tokens()  # the old refresh token is dead now
    (clean,) = world.run(1)
    assert world.sim.accounts.refreshes >= 2
    world.verify("refresh token rotated", tries=2, before=before, clean=clean)


def test_expired_login_pauses_with_run_bachbot_auth(
    world: World, cli: Callable[..., tuple[int, str, str]]
) -> None:
    before = world.warm_up()
    with transaction(world.sessions) as session:
        mark_connected(session=session)
    code, out, _ = cli("status")
    assert code == 0 and "log in again (`bachbot auth`) by " in out, out

    accounts = world.sim.accounts
    accounts.refresh_lifetime_s = SIX_MONTHS_S - 24 * 3600
    accounts.clock = lambda: time.time() + SIX_MONTHS_S  # half a year later
    accounts.expire_access_tokens()
    world.listener_likes(2)
    (first, second) = world.run(2)
    error = first.by_job()["sync"].error or ""
    assert statuses(first)["sync"] == "failed"
    assert "Refresh token expired" in error and "run `bachbot auth`" in error
    assert statuses(second)["sync"] == statuses(second)["publish"] == "skipped"
    code, out, _ = cli("status")
    assert code == 0 and "run `bachbot auth`" in out and "expired" in out, out

    world.store.save_token_to_cache(world.sim.issue_token(LISTENER, scope=SCOPE))
    with transaction(world.sessions) as session:
        mark_connected(session=session)
    (clean,) = world.run(1)
    world.verify("refresh token expired (invalid_grant)", tries=2, before=before, clean=clean)


def test_reset_client_secret_is_told_apart_from_a_revoked_login(
    world: World, cli: Callable[..., tuple[int, str, str]]
) -> None:
    before = world.warm_up()
    real_secret = world.sim.accounts.client_secret
    world.sim.accounts.client_secret = "reset-in-the-dashboard"
    world.sim.accounts.expire_access_tokens()
    world.listener_likes(2)
    token_calls = world.sim.calls["POST /api/token"]
    (first,) = world.run(1)
    error = first.by_job()["sync"].error or ""
    assert statuses(first)["sync"] == "failed"
    assert "app credentials" in error and "invalid_client" in error, error
    assert "bachbot auth" not in error  # a new login would fail the same way
    assert world.sim.calls["POST /api/token"] - token_calls <= 2, "retried a bad secret"
    code, out, _ = cli("status")
    assert code == 0 and "app credentials" in out, out

    world.sim.accounts.client_secret = real_secret  # the user fixed .env and restarted
    (clean,) = world.run(1)
    world.verify("client secret reset (invalid_client)", tries=2, before=before, clean=clean)


def test_spotify_errors_metric_counts_by_endpoint_and_kind(world: World) -> None:
    world.warm_up()
    world.sim.faults.inject("GET /me/tracks", Fault.http(503), times=1)
    world.sim.faults.inject("GET /me/playlists", Fault.rate_limited(1), times=1)
    world.listener_likes(1)
    world.run(1)
    registry = CollectorRegistry()
    registry.register(_DatabaseCollector(world.wiring.engine, world.cycle.spotify_stats))
    text = generate_latest(registry).decode()
    assert 'bachbot_spotify_errors_total{endpoint="GET /me/tracks",kind="unavailable"} 1.0' in text
    assert (
        'bachbot_spotify_errors_total{endpoint="GET /me/playlists",kind="rate_limited"} 1.0' in text
    )
    assert "bachbot_spotify_calls_total" in text


def test_login_date_is_a_metric(world: World) -> None:
    world.warm_up()
    with transaction(world.sessions) as session:
        mark_connected(session=session)
    registry = CollectorRegistry()
    registry.register(_DatabaseCollector(world.wiring.engine, world.cycle.spotify_stats))
    value = registry.get_sample_value("bachbot_spotify_login_expires_timestamp_seconds")
    assert value is not None
    assert abs(value - (time.time() + timedelta(days=182).total_seconds())) < 3600
