"""Bach tracks present both in the local Spotify and in bachbot's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from service.spotify_sim import SimState
from service.store.tables import Track

BACH = "5aIqB5nVVvmFsvSdExz408"
PERFORMER = "performer0000000000001"


def pitches(i: int) -> list[float]:
    return [round((i + k) % 5 / 4, 2) for k in range(12)]


def timbre(i: int) -> list[float]:
    return [float(10 * i + k) for k in range(12)]


def track_id(n: int) -> str:
    return f"track{n:017d}"


AddTracks = Callable[..., list[str]]


@pytest.fixture
def add_tracks(session: Session, sim_state: SimState) -> AddTracks:
    """``add_tracks(n, audio=True, recco=True)``: n cello-suite tracks in both places.

    Track k has ReccoBeats energy ``k / 100`` and Spotify energy ``k / 1000``, so a
    test can tell which source a stored value came from; its two analysis
    segments have pitches ``pitches(0), pitches(1)`` and timbre ``timbre(0), timbre(1)``.
    """
    if BACH not in sim_state.artists:
        sim_state.add_artist("Johann Sebastian Bach", id=BACH)
        sim_state.add_artist("Nadia Kowalczyk", id=PERFORMER)

    def add(n: int, *, audio: bool = True, recco: bool = True, start: int = 0) -> list[str]:
        ids = []
        for k in range(start, start + n):
            tid = track_id(k)
            name = f"Cello Suite No. 1 in G Major, BWV 1007: {k + 1}. Menuet"
            features: dict[str, Any] = {
                "acousticness": 0.9,
                "danceability": 0.3,
                "energy": k / 1000,
                "instrumentalness": 0.9,
                "key": 7,
                "liveness": 0.1,
                "loudness": -20.0,
                "mode": 1,
                "speechiness": 0.04,
                "tempo": 80.0,
                "time_signature": 3,
                "valence": 0.3,
            }
            segments = [
                {
                    "start": float(s),
                    "duration": 1.0,
                    "confidence": 0.9,
                    "loudness_start": -30.0,
                    "loudness_max": -20.0,
                    "loudness_max_time": 0.1,
                    "loudness_end": -25.0,
                    "pitches": pitches(s),
                    "timbre": timbre(s),
                }
                for s in range(2)
            ]
            sim_state.add_track(
                name,
                id=tid,
                artist_ids=[BACH, PERFORMER],
                duration_ms=120_000,
                audio_features=features if audio else None,
                analysis_segments=segments if audio else None,
                reccobeats={**features, "energy": k / 100} if recco else None,
            )
            session.add(
                Track(
                    id=tid,
                    name=name,
                    artists=[
                        {"id": BACH, "name": "Johann Sebastian Bach"},
                        {"id": PERFORMER, "name": "Nadia Kowalczyk"},
                    ],
                    album_name="Bach: Cello Suites",
                    album_type="album",
                    release_date="1999",
                    duration_ms=120_000,
                    track_number=k + 1,
                    is_bach=True,
                    bwv="1007",
                )
            )
            ids.append(tid)
        session.commit()
        return ids

    return add


@pytest.fixture
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client
