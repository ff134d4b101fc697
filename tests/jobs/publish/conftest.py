"""A scored catalogue to publish from: tracks in the local Spotify and in the database,
a promoted model and its predictions, and a runner that publishes like the cycle does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from jobs.publish import PublishReport, publish_playlist
from jobs.sync import sync_library
from service.settings import J_S_BACH_ARTIST_ID, Settings
from service.spotify.gateway import SpotifyGateway
from service.spotify_sim import SpotifySim
from service.store.tables import ModelVersion, Prediction, Track

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class Scored:
    sim: SpotifySim
    sessions: sessionmaker[Session]
    settings: Settings
    gateway: SpotifyGateway
    track_ids: list[str] = field(default_factory=list)
    """Best first: track i has score 10 - i * 0.01."""

    def publish(self, *, listing_fresh: bool = False) -> PublishReport:
        with self.sessions() as session:
            report = publish_playlist(
                session=session,
                spotify=self.gateway,
                settings=self.settings,
                now=NOW,
                listing_fresh=listing_fresh,
            )
            session.commit()
        return report

    def sync_then_publish(self) -> PublishReport:
        with self.sessions() as session:
            sync_library(session=session, spotify=self.gateway, settings=self.settings, now=NOW)
            session.commit()
        return self.publish(listing_fresh=True)

    def bot_playlists(self) -> list[str]:
        return self.sim.state.find_playlists(self.settings.playlist_name)


@pytest.fixture
def scored_factory(
    spotify_sim: SpotifySim,
    spotify_settings: Settings,
    gateway: SpotifyGateway,
    sessions: sessionmaker[Session],
) -> Callable[..., Scored]:
    def make(n: int = 30, *, size: int = 10, works: int | None = None) -> Scored:
        state = spotify_sim.state
        if J_S_BACH_ARTIST_ID not in state.artists:
            state.add_artist("Johann Sebastian Bach", id=J_S_BACH_ARTIST_ID)
        album = state.add_album("Keyboard works", artist_ids=[J_S_BACH_ARTIST_ID])
        settings = spotify_settings.model_copy(
            update={"playlist_size": size, "playlist_min_probability": 0.0, "max_per_work": 2}
        )
        scored = Scored(spotify_sim, sessions, settings, gateway)
        with sessions() as session:
            model = ModelVersion(version="m1", kind="mlp", promoted=True, promoted_at=NOW)
            session.add(model)
            session.flush()
            for i in range(n):
                bwv = str(800 + (i % works if works else i))
                name = f"Prelude No. {i}, BWV {bwv}"
                track_id = state.add_track(name, album_id=album, artist_ids=[J_S_BACH_ARTIST_ID])
                session.add(Track(id=track_id, name=name, is_bach=True, bwv=bwv))
                session.flush()
                session.add(
                    Prediction(
                        track_id=track_id, model_version_id=model.id, score=10 - i * 0.01,
                        uncertainty=0.1,
                    )
                )  # fmt: skip
                scored.track_ids.append(track_id)
            session.commit()
        return scored

    return make
