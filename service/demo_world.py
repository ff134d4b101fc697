"""The simulated listener's Spotify: one builder for the demo, the benchmarks and the tests.

A world is a generated Bach catalogue (:mod:`models.catalogue_demo`), a
listener with a hidden taste (:mod:`service.demo_listener`) and their Spotify
account as the local Spotify serves it: a playlist of their own, one of
someone else's that they follow (unreadable for a 2026 app), and a few likes
of tracks they love.  :meth:`ListenerWorld.serve` starts the local Spotify on
it and :func:`log_in` stores the listener's token the way ``bachbot auth``
would, so whatever runs bachbot against the world goes through the same
login, gateway and jobs as a real account.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from models.catalogue_demo import DemoCatalogue, DemoTrack, generate_catalogue
from service.demo_listener import HiddenTaste
from service.spotify.auth import SCOPE
from service.spotify_sim import SimState, SpotifySim
from service.store.tokens import DbTokenStore

LISTENER = "listener"
CURATOR = "curator"
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
"""The demo clock's first morning (likes and playlists are dated before it)."""


@dataclass
class ListenerWorld:
    """A catalogue, a hidden taste and the listener's account built from them."""

    catalogue: DemoCatalogue
    taste: HiddenTaste
    seed: int

    @classmethod
    def generate(
        cls, *, n_albums: int = 60, seed: int = 0, segments_per_track: int = 2
    ) -> ListenerWorld:
        catalogue = generate_catalogue(
            n_albums=n_albums, seed=seed, segments_per_track=segments_per_track
        )
        return cls(catalogue, HiddenTaste.for_catalogue(catalogue, seed=seed), seed)

    @property
    def tracks(self) -> dict[str, DemoTrack]:
        return {t.id: t for t in self.catalogue.tracks}

    def state(self) -> SimState:
        """A fresh copy of the listener's Spotify (each call starts from scratch)."""
        return build_state(self.catalogue, self.taste, seed=self.seed)

    def serve(self, *, mode: str = "new", validate: bool | None = None) -> SpotifySim:
        """The local Spotify on this world (use as a context manager, or ``.start()``);
        its answers are checked against the spec wherever the checker is installed."""
        return SpotifySim(self.state(), mode=mode, validate=validate)


def log_in(sim: SpotifySim, tokens: DbTokenStore, *, user: str = LISTENER) -> None:
    """Store ``user``'s token as a finished ``bachbot auth`` would."""
    tokens.save_token_to_cache(sim.issue_token(user, scope=SCOPE))


def build_state(catalogue: DemoCatalogue, taste: HiddenTaste, *, seed: int) -> SimState:
    """The listener's Spotify: a playlist of their own, one they follow, a few likes."""
    rng = random.Random(seed)
    tracks = catalogue.tracks
    loved = [t for t in tracks if taste.loves(t)]
    liked = rng.sample(loved, k=min(8, len(loved)))
    own = rng.sample(tracks, k=min(25, len(tracks)))
    followed = rng.sample(tracks, k=min(15, len(tracks)))

    def stamp(i: int) -> str:
        return (START - timedelta(days=30 - i)).strftime("%Y-%m-%dT%H:%M:%SZ")

    users: list[dict[str, Any]] = [
        {
            "id": LISTENER,
            "display_name": "Demo listener",
            "product": "premium",
            "likes": [{"track_id": t.id, "added_at": stamp(i)} for i, t in enumerate(liked)],
            "followed_playlists": ["demo-curated"],
        },
        {"id": CURATOR, "display_name": "A curator", "product": "premium"},
    ]
    data = catalogue.to_sim_catalogue(users=users, default_user=LISTENER)
    data["playlists"] = [
        {
            "id": "demo-mornings",
            "name": "Bach mornings",
            "owner_id": LISTENER,
            "items": [{"track_id": t.id, "added_at": stamp(i)} for i, t in enumerate(own)],
        },
        {
            "id": "demo-curated",
            "name": "Baroque essentials (curated)",
            "owner_id": CURATOR,
            "public": True,
            "items": [{"track_id": t.id, "added_at": stamp(i)} for i, t in enumerate(followed)],
        },
    ]
    return SimState.from_dict(data)
