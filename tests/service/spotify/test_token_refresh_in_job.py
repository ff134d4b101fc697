"""A token refresh in the middle of a job must not wait on the job's own write lock."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.spotify.gateway import SpotifyGateway
from service.spotify_sim import SpotifySim
from service.store.tables import OAuthToken, Track
from service.store.tokens import DbTokenStore


@pytest.mark.timeout(20)  # the old store waited 30 s on its own lock, then failed
def test_refresh_while_job_holds_write_lock_stores_token_after_commit(
    spotify_sim: SpotifySim,
    gateway: SpotifyGateway,
    token_store: DbTokenStore,
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as job_session:
        before = token_store.get_cached_token()
        assert before is not None
        job_session.add(Track(id="t-in-job", name="written before the Spotify call"))
        job_session.flush()  # the job now holds the write lock (SQLite) or a row lock
        spotify_sim.accounts.expire_access_tokens()
        me = gateway.me()  # 401 -> refresh -> save token while the job's lock is held
        assert me.id
        job_session.commit()
    gateway.me()  # the next request writes the kept token
    with sessions() as session:
        stored = session.get(OAuthToken, "default")
        assert stored is not None
        assert stored.token_info["access_token"] != before["access_token"]
