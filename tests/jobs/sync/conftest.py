"""A Spotify library to sync: the local Spotify with Bach and non-Bach music, and a sync runner.

``library`` adds J. S. Bach (the real artist id), a performer and a non-Bach
artist to the ``sim_state`` of the Spotify fixtures, with helpers to make
tracks and albums; ``run_sync`` runs one cycle at a given "now" and commits,
as the job runner would.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from jobs.sync import SyncReport, sync_library
from service.settings import J_S_BACH_ARTIST_ID, Settings
from service.spotify.gateway import SpotifyGateway
from service.spotify_sim import SimState

BACH = J_S_BACH_ARTIST_ID
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LISTENER = "listener"
CURATOR = "curator"


@dataclass
class Library:
    """Builder over the local Spotify's state, counting what it made."""

    state: SimState
    performer: str = ""
    other_artist: str = ""
    counter: int = 0
    bach_tracks: list[str] = field(default_factory=list)
    other_tracks: list[str] = field(default_factory=list)

    def bach_album(self, tracks: int = 3, *, name: str | None = None) -> tuple[str, list[str]]:
        """An album of Bach recordings (J. S. Bach among the artists, so in his discography)."""
        self.counter += 1
        album = self.state.add_album(
            name or f"Bach Recording {self.counter}",
            artist_ids=[BACH, self.performer],
            release_date=f"20{10 + self.counter % 15:02d}-01-{1 + self.counter % 28:02d}",
        )
        ids = [
            self.state.add_track(
                f"Partita No. {n} in D minor, BWV 100{n}: Allemande",
                album_id=album,
                artist_ids=[BACH, self.performer],
            )
            for n in range(1, tracks + 1)
        ]
        self.bach_tracks += ids
        return album, ids

    def bach_track(self, name: str | None = None) -> str:
        """One Bach track on an album of its own (its album joins the discography)."""
        _, ids = self.bach_album(1)
        if name:
            self.state.tracks[ids[0]].name = name
        return ids[0]

    def other_track(self) -> str:
        self.counter += 1
        album = self.state.add_album(f"Kind of Jazz {self.counter}", artist_ids=[self.other_artist])
        track = self.state.add_track(
            f"So What {self.counter}", album_id=album, artist_ids=[self.other_artist]
        )
        self.other_tracks.append(track)
        return track


@pytest.fixture
def library(sim_state: SimState) -> Library:
    sim_state.add_artist("Johann Sebastian Bach", id=BACH)
    lib = Library(sim_state)
    lib.performer = sim_state.add_artist("Angela Hewitt")
    lib.other_artist = sim_state.add_artist("A Jazz Quintet")
    return lib


RunSync = Callable[..., SyncReport]


@pytest.fixture
def run_sync(session: Session, gateway: SpotifyGateway, spotify_settings: Settings) -> RunSync:
    def run(now: datetime = T0, settings: Settings | None = None) -> SyncReport:
        report = sync_library(
            session=session, spotify=gateway, settings=settings or spotify_settings, now=now
        )
        session.commit()
        return report

    return run


def minimum_calls(*, playlists: int) -> Counter[str]:
    """The requests a cycle makes when nothing changed (and no periodic re-check is due).

    One page of ``/me/playlists`` per 50 playlists and the first page of Liked
    Songs (it starts with the known newest like): the minimum issue 10 defines.
    Unchanged playlists, unreadable ones within their re-check interval,
    finished catalogue walks (discography, saved albums) until their refresh,
    top tracks (daily) and recent plays (read only for the optional exposure
    signal) cost nothing.
    """
    return Counter(
        {
            "GET /me/playlists": max(1, math.ceil(playlists / 50)),
            "GET /me/tracks": 1,
        }
    )
