"""The listener's taste in words: what the model learned, and the works and performers rated.

Two sources, kept apart because they mean different things:

* what the **model** has learned (features that raise or lower the chance,
  :func:`models.explain.taste_effects`, stored by the score job in
  :data:`service.store.app_state.TASTE`);
* what the **listener** said: works and performers with more loved than
  unloved ratings, and the other way round (:func:`rated_groups`, pure).

The status page shows both; the playlist description carries one line of the
first (:func:`taste_line`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.playlist_plan import work_key
from models.features.catalogue import lookup
from service.settings import Settings
from service.store.app_state import TASTE
from service.store.ratings import effective_ratings
from service.store.tables import Track

SHOWN = 5
"""Works or performers listed per side at most."""


@dataclass(frozen=True)
class RatedGroup:
    """A work or a performer, with how many of its recordings were loved and not."""

    label: str
    loved: int
    unloved: int


@dataclass(frozen=True)
class Taste:
    model_version: str | None
    features: tuple[Mapping[str, Any], ...]
    """The model's learned effects (``TasteItem.to_dict()``), largest first."""
    loved_works: tuple[RatedGroup, ...]
    unloved_works: tuple[RatedGroup, ...]
    loved_performers: tuple[RatedGroup, ...]
    unloved_performers: tuple[RatedGroup, ...]


CHUNK = 5000
"""Track ids per ``IN (...)`` query (SQLite limits the number of bound values)."""


def stored_tracks(session: Session, track_ids: Sequence[str]) -> dict[str, Track]:
    """Track id -> stored track, for any number of ids."""
    found: dict[str, Track] = {}
    for start in range(0, len(track_ids), CHUNK):
        chunk = list(track_ids[start : start + CHUNK])
        found |= {t.id: t for t in session.scalars(select(Track).where(Track.id.in_(chunk)))}
    return found


def performers_of(artists: object, composers: frozenset[str]) -> dict[str, str]:
    """Performer id -> name of a stored track's artists, the composer left out."""
    out: dict[str, str] = {}
    for artist in artists if isinstance(artists, list) else []:
        if isinstance(artist, dict) and artist.get("id") and artist["id"] not in composers:
            out[str(artist["id"])] = str(artist.get("name") or artist["id"])
    return out


def rated_groups(
    rated: Iterable[tuple[bool, Sequence[str]]], *, shown: int = SHOWN
) -> tuple[tuple[RatedGroup, ...], tuple[RatedGroup, ...]]:
    """(mostly loved, mostly not) groups, most ratings first (pure).

    ``rated``: per rated track, whether it is loved and the labels of the
    groups it belongs to.  A group with as many loved as unloved is neither.
    """
    counts: dict[str, list[int]] = {}
    for loved, labels in rated:
        for label in dict.fromkeys(labels):
            counts.setdefault(label, [0, 0])[0 if loved else 1] += 1
    groups = [RatedGroup(label, n[0], n[1]) for label, n in counts.items()]
    liked = sorted(
        (g for g in groups if g.loved > g.unloved), key=lambda g: (-g.loved, g.unloved, g.label)
    )
    disliked = sorted(
        (g for g in groups if g.unloved > g.loved), key=lambda g: (-g.unloved, g.loved, g.label)
    )
    return tuple(liked[:shown]), tuple(disliked[:shown])


def work_label(work: str) -> str:
    """``"988"`` -> ``"BWV 988 (Goldberg Variations)"`` when the catalogue knows it."""
    entry = lookup(work)
    return f"BWV {work} ({entry.title})" if entry is not None else f"BWV {work}"


def taste_of(*, session: Session, settings: Settings) -> Taste:
    """What the model learned and what the listener rated, for the status page."""
    ratings = effective_ratings(session=session)
    composers = frozenset(settings.composer_artist_ids)
    works: list[tuple[bool, list[str]]] = []
    performers: list[tuple[bool, list[str]]] = []
    for track in stored_tracks(session, list(ratings)).values():
        loved = ratings[track.id] >= settings.love_threshold
        work = work_key(track.bwv)
        works.append((loved, [work_label(work)] if work else []))
        performers.append((loved, list(performers_of(track.artists, composers).values())))
    loved_works, unloved_works = rated_groups(works)
    loved_performers, unloved_performers = rated_groups(performers)
    stored = TASTE.get(session)
    return Taste(
        model_version=None if stored is None else stored.model_version,
        features=() if stored is None else stored.features,
        loved_works=loved_works,
        unloved_works=unloved_works,
        loved_performers=loved_performers,
        unloved_performers=unloved_performers,
    )


def taste_line(features: Sequence[Mapping[str, Any]], *, most: int = 3) -> str | None:
    """One line for the playlist description: "Your taste so far: slow tempo, harpsichord;
    less: choir." (None when the model has learned nothing worth saying)."""
    up = [str(f["text"]) for f in features if float(f["effect"]) > 0][:most]
    down = [str(f["text"]) for f in features if float(f["effect"]) < 0][: max(1, most - 1)]
    if not up and not down:
        return None
    parts = [", ".join(up)] if up else []
    if down:
        parts.append("less: " + ", ".join(down))
    return "Your taste so far: " + "; ".join(parts) + "."
