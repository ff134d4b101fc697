"""The gateway's answer to each fault the local Spotify can inject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.settings import Settings
from service.spotify.errors import (
    SpotifyAuthRevoked,
    SpotifyNotAuthenticated,
    SpotifyRateLimited,
    SpotifyUnavailable,
)
from service.spotify.gateway import SpotifyGateway
from service.spotify_sim import Fault, SpotifySim
from service.store.tokens import DbTokenStore

ME = "GET /me"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_short_retry_after_is_waited_out(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, gateway_sleeps: list[float]
) -> None:
    spotify_sim.faults.inject(ME, Fault.rate_limited(retry_after_s=7), times=1)
    assert gateway.me().id == "listener"
    assert gateway_sleeps == [7.0]
    assert spotify_sim.calls[ME] == 2


def test_long_retry_after_ends_the_job_with_a_resume_time(
    spotify_settings: Settings,
    token_store: DbTokenStore,
    spotify_sim: SpotifySim,
    gateway_sleeps: list[float],
) -> None:
    gateway = SpotifyGateway(
        spotify_settings, token_store, sleep=gateway_sleeps.append, clock=lambda: NOW
    )
    spotify_sim.faults.inject(ME, Fault.rate_limited(retry_after_s=4 * 3600))
    with pytest.raises(SpotifyRateLimited) as caught:
        gateway.me()
    err = caught.value
    assert (err.endpoint, err.retry_after_s, err.quota_exceeded) == (ME, 14400.0, False)
    assert err.resume_at == NOW + timedelta(hours=4)
    assert "2026-03-01T16:00:00" in str(err)
    assert gateway_sleeps == []


def test_quota_exceeded_stops_even_with_a_short_retry_after(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, gateway_sleeps: list[float]
) -> None:
    spotify_sim.faults.inject(ME, Fault.rate_limited(retry_after_s=2, quota_exceeded=True))
    with pytest.raises(SpotifyRateLimited) as caught:
        gateway.me()
    assert caught.value.quota_exceeded
    assert "quota" in str(caught.value)
    assert gateway_sleeps == []


def test_endless_short_429s_stop_after_the_retry_budget(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, gateway_sleeps: list[float]
) -> None:
    spotify_sim.faults.inject(ME, Fault.rate_limited(retry_after_s=1))
    with pytest.raises(SpotifyRateLimited):
        gateway.me()
    assert len(gateway_sleeps) == gateway.settings.server_error_retries


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_with_backoff(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, gateway_sleeps: list[float], status: int
) -> None:
    spotify_sim.faults.inject(ME, Fault.http(status), calls=[1, 2])
    assert gateway.me().id == "listener"
    base = gateway.settings.backoff_base_s
    assert len(gateway_sleeps) == 2
    assert base / 2 <= gateway_sleeps[0] <= base
    assert base <= gateway_sleeps[1] <= 2 * base


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        (Fault.http(503), "HTTP 503"),
        (Fault.reset(), "ConnectionError"),
        (Fault.malformed_json(), "unreadable"),
        (Fault.truncated_json(), "unreadable"),
    ],
)
def test_persistent_failures_end_in_unavailable_naming_endpoint_and_cause(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, fault: Fault, cause: str
) -> None:
    spotify_sim.faults.inject(ME, fault)
    with pytest.raises(SpotifyUnavailable) as caught:
        gateway.me()
    err = caught.value
    assert err.endpoint == ME
    assert cause in err.cause
    assert ME in str(err) and cause in str(err)
    assert spotify_sim.calls[ME] == gateway.settings.server_error_retries + 1


def test_a_reset_connection_is_retried(gateway: SpotifyGateway, spotify_sim: SpotifySim) -> None:
    spotify_sim.faults.inject(ME, Fault.reset(), calls=[1])
    assert gateway.me().id == "listener"


def test_slow_answers_time_out_and_are_retried(
    spotify_settings: Settings, token_store: DbTokenStore, spotify_sim: SpotifySim
) -> None:
    quick = spotify_settings.model_copy(update={"spotify_timeout_s": 0.2})
    gateway = SpotifyGateway(quick, token_store, sleep=lambda _: None)
    spotify_sim.faults.inject(ME, Fault.slow(1.0), calls=[1])
    assert gateway.me().id == "listener"
    assert gateway.calls[ME] == 2


def test_expired_token_is_refreshed_and_the_call_repeated(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, token_store: DbTokenStore
) -> None:
    before = token_store.get_cached_token()
    spotify_sim.accounts.expire_access_tokens()
    assert gateway.me().id == "listener"
    after = token_store.get_cached_token()
    assert before and after and after["access_token"] != before["access_token"]
    assert spotify_sim.calls["POST /api/token"] == 1


def test_injected_401_is_refreshed_too(gateway: SpotifyGateway, spotify_sim: SpotifySim) -> None:
    spotify_sim.faults.inject(ME, Fault.expired_token(), calls=[1])
    assert gateway.me().id == "listener"
    assert spotify_sim.calls["POST /api/token"] == 1


def test_token_expired_by_the_clock_is_refreshed_before_the_call(
    gateway: SpotifyGateway, spotify_sim: SpotifySim, token_store: DbTokenStore
) -> None:
    token = token_store.get_cached_token()
    assert token is not None
    token_store.save_token_to_cache({**token, "expires_at": 0})
    assert gateway.me().id == "listener"
    assert spotify_sim.calls["POST /api/token"] == 1
    assert spotify_sim.calls[ME] == 1


def test_revoked_grant_asks_to_run_auth_again(
    gateway: SpotifyGateway, spotify_sim: SpotifySim
) -> None:
    spotify_sim.accounts.revoke()
    with pytest.raises(SpotifyAuthRevoked, match="run `bachbot auth` again"):
        gateway.me()


def test_no_stored_token_asks_to_run_auth(
    spotify_settings: Settings, sessions: object, spotify_sim: SpotifySim
) -> None:
    from sqlalchemy.orm import Session, sessionmaker

    assert isinstance(sessions, sessionmaker)
    factory: sessionmaker[Session] = sessions
    gateway = SpotifyGateway(spotify_settings, DbTokenStore(factory))
    with pytest.raises(SpotifyNotAuthenticated, match="run `bachbot auth`"):
        gateway.me()
    assert spotify_sim.calls[ME] == 0


def test_a_503_is_not_reported_as_a_429(gateway: SpotifyGateway, spotify_sim: SpotifySim) -> None:
    """spotipy's own urllib3 retry turns 5xx into "429 Max Retries"; ours must not."""
    spotify_sim.faults.inject(ME, Fault.http(503))
    with pytest.raises(SpotifyUnavailable, match="HTTP 503"):
        gateway.me()


def test_tokens_never_reach_the_logs(
    gateway: SpotifyGateway,
    spotify_sim: SpotifySim,
    token_store: DbTokenStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    spotify_sim.accounts.expire_access_tokens()
    spotify_sim.faults.inject(ME, Fault.http(500), calls=[2])
    gateway.me()
    token = token_store.get_cached_token()
    assert token is not None
    assert spotify_sim.calls["POST /api/token"] == 1
    for secret in (token["access_token"], token["refresh_token"]):
        assert secret not in caplog.text
