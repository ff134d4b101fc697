"""A small Bach catalogue in the local Spotify, shared by the Spotify-layer tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.settings import J_S_BACH_ARTIST_ID
from service.spotify_sim import SimState
from tests.plugins.spotify_fixtures import CURATOR, LISTENER

START = datetime(2026, 1, 1, tzinfo=UTC)

FEATURES: dict[str, Any] = {
    "acousticness": 0.9,
    "danceability": 0.3,
    "energy": 0.2,
    "instrumentalness": 0.9,
    "key": 7,
    "liveness": 0.1,
    "loudness": -18.0,
    "mode": 1,
    "speechiness": 0.04,
    "tempo": 92.0,
    "time_signature": 3,
    "valence": 0.4,
}
SEGMENT: dict[str, Any] = {
    "start": 0.0,
    "duration": 0.5,
    "confidence": 0.8,
    "loudness_start": -30.0,
    "loudness_max": -18.0,
    "loudness_max_time": 0.1,
    "loudness_end": -25.0,
    "pitches": [0.1 * i for i in range(10)] + [1.0, 0.5],
    "timbre": [40.0, -3.0, 12.5, 0.0, 1.0, -1.0, 2.0, 3.0, -4.0, 5.0, 0.5, 0.25],
}


@dataclass
class Library:
    """Ids of what the catalogue holds, for the tests to refer to."""

    bach: str
    gould: str
    goldberg: str
    tracks: list[str] = field(default_factory=list)
    own_playlist: str = ""
    curated_playlist: str = ""
    collab_playlist: str = ""


@pytest.fixture
def library(sim_state: SimState) -> Library:
    state = sim_state
    bach = state.add_artist("Johann Sebastian Bach", id=J_S_BACH_ARTIST_ID)
    gould = state.add_artist("Glenn Gould")
    goldberg = state.add_album(
        "Goldberg Variations, BWV 988", artist_ids=[gould], release_date="1982"
    )
    lib = Library(bach=bach, gould=gould, goldberg=goldberg)
    for n in range(1, 33):
        lib.tracks.append(
            state.add_track(
                f"Goldberg Variations, BWV 988: Variatio {n}",
                album_id=goldberg,
                artist_ids=[bach, gould],
                isrc=f"USSM1820{n:04d}",
                audio_features=FEATURES,
                analysis_segments=[SEGMENT, SEGMENT],
                reccobeats={"acousticness": 0.9, "energy": 0.2, "tempo": 92.0},
            )
        )
    for n in range(12):
        state.add_album(f"Cantatas vol. {n}", artist_ids=[bach], release_date=f"20{n + 10}-01-01")
    for i, track in enumerate(lib.tracks[:5]):
        state.like(LISTENER, track, START + timedelta(days=i))
    lib.own_playlist = state.add_playlist(
        owner=LISTENER, name="Bach mornings", track_ids=lib.tracks[:3]
    )
    lib.curated_playlist = state.add_playlist(
        owner=CURATOR, name="Baroque essentials", track_ids=lib.tracks[3:6], followed_by=[LISTENER]
    )
    lib.collab_playlist = state.add_playlist(
        owner=CURATOR,
        name="Shared Bach",
        track_ids=lib.tracks[6:8],
        collaborative=True,
        collaborators=[LISTENER],
        followed_by=[LISTENER],
    )
    return lib
