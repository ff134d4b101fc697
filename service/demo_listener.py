"""The demo's simulated listener: a hidden taste bachbot has to discover.

The taste has a part a listener could hear and read - slow movements, minor
keys and keyboard instruments are loved, choral and solo-voice works are
not - and parts no descriptor shows, as a real person's has:

* a liking for two particular performers, which shows only through who
  plays (bachbot's features say which instrument, never which player);
* a per-recording component (this take moves them, that one does not) of
  the same size as the instrument's effect;
* slips: now and then the listener likes or removes a track against their
  own taste.

So even a model that knew the audible part exactly would not find every
loved track (``tests/service/test_demo_listener.py`` checks the ceiling).
bachbot never sees this function; it sees only likes and removals, exactly
as with a real person.  The listener reacts to what bachbot publishes in
both of its playlists: it likes what it loves, removes what it dislikes, and
leaves the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist

from models.catalogue_demo import DemoCatalogue, DemoTrack

LOVE = 7.0
"""A track the listener would like (and does, when bachbot offers it)."""
DISLIKE = 5.5
"""At or below: the listener removes it from the playlist (a track they would not
keep in a list of favourites); between this and LOVE they leave it alone."""

KEYBOARD = {"harpsichord", "piano"}
VOICES = {"choir", "soprano", "bass"}
RECORDING_SD = 1.25
"""Spread of the per-recording component, on the 1-10 scale."""
FAVOURITE_BONUS = 2.0
SLIP_RATE = 0.05
"""Share of reactions that go against the listener's own taste."""


@dataclass(frozen=True)
class HiddenTaste:
    """Scores 1-10 per track; ``favourites`` are performer artist ids."""

    roles: Mapping[str, str]
    favourites: frozenset[str]
    seed: int = 0

    @classmethod
    def for_catalogue(cls, catalogue: DemoCatalogue, *, seed: int = 0) -> HiddenTaste:
        """Two favourite performers of any instrument (not only keyboard players)."""
        roles = {a.id: a.role for a in catalogue.artists}
        performers = sorted(a.id for a in catalogue.artists if a.role != "composer")
        pick = [performers[(seed * 5 + i * 7) % len(performers)] for i in range(2)]
        return cls(roles=roles, favourites=frozenset(pick) if performers else frozenset(),
                   seed=seed)  # fmt: skip

    def audible(self, track: DemoTrack) -> float:
        """The part of the taste a listener could hear or read in the title."""
        performer_roles = {self.roles.get(a, "") for a in track.artist_ids[1:]}
        features = track.audio_features or track.reccobeats or {}
        minor = features.get("mode") == 0 or " minor" in track.name.lower()
        value = 5.0
        value += 2.0 if performer_roles & KEYBOARD else 0.0
        value += 1.5 if minor else -0.5
        value += {"s": 1.5, "m": 0.0, "f": -1.0}.get(track.tempo_class, 0.0)
        value -= 3.5 if performer_roles & VOICES else 0.0
        return value

    def score(self, track: DemoTrack) -> float:
        value = self.audible(track)
        value += FAVOURITE_BONUS if self.favourites & set(track.artist_ids) else 0.0
        value += RECORDING_SD * self._normal(f"take:{track.id}")
        return max(1.0, min(10.0, value))

    def _uniform(self, key: str) -> float:
        """A number in (0, 1), fixed per key and seed."""
        digest = hashlib.sha256(f"{self.seed}:{key}".encode()).digest()
        return (int.from_bytes(digest[:6], "big") + 0.5) / 2**48

    def _normal(self, key: str) -> float:
        return NormalDist().inv_cdf(self._uniform(key))

    def loves(self, track: DemoTrack) -> bool:
        return self.score(track) >= LOVE

    def slips(self, track_id: str) -> bool:
        """This reaction goes against the listener's taste (fixed per track and seed)."""
        return self._uniform(f"slip:{track_id}") < SLIP_RATE


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
        loves, dislikes = score >= LOVE, score <= DISLIKE
        if taste.slips(track_id):
            loves, dislikes = dislikes, loves
        if loves:
            like.append(track_id)
        elif dislikes:
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
