"""The demo's simulated listener: a hidden taste bachbot has to discover.

The taste is a plain function of what a listener could hear and read: slow
movements, minor keys and keyboard instruments are loved, two particular
performers more so, and choral or solo-voice works are disliked.  bachbot
never sees this function; it sees only likes and removals, exactly as with a
real person.  The listener reacts to what bachbot publishes: it likes what
it loves, removes what it dislikes, and leaves the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from models.catalogue_demo import DemoCatalogue, DemoTrack

LOVE = 7.0
"""A track the listener would like (and does, when bachbot offers it)."""
DISLIKE = 5.5
"""At or below: the listener removes it from the playlist (a track they would not
keep in a list of favourites); between this and LOVE they leave it alone."""

KEYBOARD = {"harpsichord", "piano"}
VOICES = {"choir", "soprano", "bass"}


@dataclass(frozen=True)
class HiddenTaste:
    """Scores 1-10 per track; ``favourites`` are performer artist ids."""

    roles: Mapping[str, str]
    favourites: frozenset[str]
    seed: int = 0

    @classmethod
    def for_catalogue(cls, catalogue: DemoCatalogue, *, seed: int = 0) -> HiddenTaste:
        roles = {a.id: a.role for a in catalogue.artists}
        keyboardists = sorted(a.id for a in catalogue.artists if a.role in KEYBOARD)
        pick = [keyboardists[(seed + i * 7) % len(keyboardists)] for i in range(2)]
        return cls(roles=roles, favourites=frozenset(pick[:2]) if keyboardists else frozenset(),
                   seed=seed)  # fmt: skip

    def score(self, track: DemoTrack) -> float:
        performer_roles = {self.roles.get(a, "") for a in track.artist_ids[1:]}
        features = track.audio_features or track.reccobeats or {}
        minor = features.get("mode") == 0 or " minor" in track.name.lower()
        value = 5.0
        value += 2.0 if performer_roles & KEYBOARD else 0.0
        value += 1.5 if minor else -0.5
        value += {"s": 1.5, "m": 0.0, "f": -1.0}.get(track.tempo_class, 0.0)
        value += 1.0 if self.favourites & set(track.artist_ids) else 0.0
        value -= 3.5 if performer_roles & VOICES else 0.0
        value += self._noise(track.id)
        return max(1.0, min(10.0, value))

    def _noise(self, track_id: str) -> float:
        digest = hashlib.sha256(f"{self.seed}:{track_id}".encode()).digest()
        return (digest[0] / 255.0 - 0.5) * 1.5  # +-0.75, fixed per track and seed

    def loves(self, track: DemoTrack) -> bool:
        return self.score(track) >= LOVE


@dataclass(frozen=True)
class Reaction:
    like: list[str]
    remove: list[str]


def react(
    published: Iterable[str], *, tracks: Mapping[str, DemoTrack], taste: HiddenTaste
) -> Reaction:
    """What the listener does with the playlist bachbot published."""
    like, remove = [], []
    for track_id in published:
        track = tracks.get(track_id)
        if track is None:
            continue
        score = taste.score(track)
        if score >= LOVE:
            like.append(track_id)
        elif score <= DISLIKE:
            remove.append(track_id)
    return Reaction(like=like, remove=remove)


def share_loved(
    track_ids: Iterable[str], *, tracks: Mapping[str, DemoTrack], taste: HiddenTaste
) -> float | None:
    """The share of ``track_ids`` the hidden taste loves (None for an empty list)."""
    known = [tracks[t] for t in track_ids if t in tracks]
    if not known:
        return None
    return sum(taste.loves(t) for t in known) / len(known)
