"""Fixtures for any suite that needs Spotify: a running local Spotify and a gateway on it.

- ``sim_state``: an empty catalogue with one user, ``"listener"`` (the default
  user every token belongs to) and a second one, ``"curator"``, who owns
  playlists the listener merely follows.
- ``spotify_sim``: a fresh local Spotify per test (mode ``"new"``; set
  ``spotify_sim.mode = "extended"`` for a pre-2024 app).  Every response it
  sends is validated against the spec; the test fails at teardown if one was
  off-spec.
- ``spotify_settings``: the test ``settings`` pointed at the local Spotify.
- ``token_store``: the database token store, holding a valid token.
- ``gateway``: a :class:`SpotifyGateway` built from those; it never sleeps for
  real, the waits it asked for are in ``gateway_sleeps``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings
from service.spotify.auth import SCOPE
from service.spotify.gateway import SpotifyGateway
from service.spotify_sim import SimState, SpotifySim
from service.store.tokens import DbTokenStore

LISTENER = "listener"
CURATOR = "curator"


@pytest.fixture
def sim_state() -> SimState:
    state = SimState()
    state.add_user(LISTENER, display_name="The Listener")
    state.add_user(CURATOR, display_name="A Curator")
    return state


@pytest.fixture
def spotify_sim(sim_state: SimState, settings: Settings) -> Iterator[SpotifySim]:
    sim = SpotifySim(sim_state, mode="new", validate=True)
    sim.accounts.client_id = settings.spotify_client_id or "test-client-id"
    secret = settings.spotify_client_secret
    sim.accounts.client_secret = secret.get_secret_value() if secret else ""
    with sim:
        yield sim
    sim.assert_valid()


@pytest.fixture
def spotify_settings(settings: Settings, spotify_sim: SpotifySim) -> Settings:
    return settings.model_copy(
        update={
            "spotify_api_base": spotify_sim.api_base,
            "spotify_accounts_base": spotify_sim.accounts_base,
            "reccobeats_base": spotify_sim.reccobeats_base,
        }
    )


@pytest.fixture
def token_store(sessions: sessionmaker[Session], spotify_sim: SpotifySim) -> DbTokenStore:
    store = DbTokenStore(sessions)
    store.save_token_to_cache(spotify_sim.issue_token(scope=SCOPE))
    return store


@pytest.fixture
def gateway_sleeps() -> list[float]:
    return []


@pytest.fixture
def gateway(
    spotify_settings: Settings, token_store: DbTokenStore, gateway_sleeps: list[float]
) -> SpotifyGateway:
    return SpotifyGateway(spotify_settings, token_store, sleep=gateway_sleeps.append)
