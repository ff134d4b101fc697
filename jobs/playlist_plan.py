"""The pure decisions behind bachbot's playlists (table-tested).

"Predicted favourites" (:func:`plan_playlist`) holds the tracks the model
expects the listener to love, with a small share of slots spent on tracks
whose upside is large but uncertain (``explore``); "Bach to rate"
(:func:`pick_to_rate`) holds the tracks whose answer would teach the model
most.  The publish job (``jobs/publish.py``) and the replay
(``jobs/replay.py``) are the I/O around these: they read predictions, ratings
and playlists, ask here what to do, and write (or reveal).
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import takewhile

import numpy as np
from numpy.typing import NDArray

PLAYLIST_MARKER = "Built by bachbot"
"""Start of the playlist description; lets a restart adopt a playlist it created
but had not yet recorded (a crash between create and commit), instead of
creating a second one."""
TO_RATE_MARKER = "Picked by bachbot"
""""Bach to rate"'s marker (it must not start like :data:`PLAYLIST_MARKER`)."""


@dataclass(frozen=True)
class Candidate:
    track_id: str
    score: float
    uncertainty: float | None = None
    work: str | None = None
    """The work the recording belongs to (e.g. BWV number without movement)."""
    performer: str | None = None
    """The recording's main performer (for the variety of "Bach to rate")."""

    @property
    def spread(self) -> float:
        return self.uncertainty if self.uncertainty is not None else 0.0


UCB_Z = 2.0
"""An explored track is ranked by ``score + UCB_Z * uncertainty``: its plausible best case
(the store's ``UPSIDE_Z``, which its index on the upside is spelled with)."""

TO_RATE_PER_PERFORMER = 2
"""At most this many tracks of one performer in one "Bach to rate" batch."""


def work_key(bwv: str | None) -> str | None:
    """The catalogue work of a BWV designation: ``1007/1`` and ``1007:3`` -> ``1007``."""
    if not bwv:
        return None
    match = re.match(r"\s*(Anh\.?\s*)?(\d+)([a-z]?)", bwv, flags=re.IGNORECASE)
    if match is None:
        return bwv.strip() or None
    prefix = "Anh. " if match.group(1) else ""
    return f"{prefix}{match.group(2)}{match.group(3).lower()}"


def explore_slots(size: int, explore: float) -> int:
    """How many of ``size`` slots go to exploration: the share rounded down, but at least
    one while exploring (a list of 5 at 0.1 still tries one track); none at 0."""
    if explore <= 0 or size < 2:
        return 0
    return max(1, math.floor(size * explore + 1e-9))


def plan_playlist(
    candidates: Iterable[Candidate],
    *,
    excluded: set[str],
    size: int,
    min_score: float,
    max_per_work: int,
    explore: float = 0.0,
) -> list[str]:
    """The ordered track ids to publish.

    The top tracks by score above ``min_score``, leaving out tracks the user
    has rated or liked (``excluded``) and keeping at most ``max_per_work``
    recordings of the same work so one cantata cannot fill the list.  Ties are
    broken by lower uncertainty, then track id, so the order is stable and an
    unchanged model never causes a rewrite.

    ``explore`` (0-0.5) is the share of the ``size`` slots given instead to
    the tracks with the highest plausible best case (``score + UCB_Z *
    uncertainty``, which must reach ``min_score``): tracks the model knows
    little about but that may well be loved, so the model learns where it is
    blind instead of only confirming what it already believes.  With 0 the
    list is the pure top-``size``.
    """
    pool = [c for c in candidates if c.track_id not in excluded]
    return plan_ranked(
        sorted(pool, key=mean_rank),
        lambda: sorted(pool, key=upside_rank),
        excluded=excluded,
        size=size,
        min_score=min_score,
        max_per_work=max_per_work,
        explore=explore,
    )


def mean_rank(c: Candidate) -> tuple[float, float, str]:
    """Best first: higher score, then lower uncertainty (unknown last), then track id."""
    return (-c.score, c.uncertainty if c.uncertainty is not None else math.inf, c.track_id)


def upside_rank(c: Candidate) -> tuple[float, float, str]:
    """Highest plausible best case first, then higher score, then track id."""
    return (-_upside(c), -c.score, c.track_id)


def plan_ranked(
    by_mean: Iterable[Candidate],
    by_upside: Callable[[], Iterable[Candidate]],
    *,
    excluded: set[str],
    size: int,
    min_score: float,
    max_per_work: int,
    explore: float = 0.0,
) -> list[str]:
    """:func:`plan_playlist` over candidates already in :func:`mean_rank` and
    :func:`upside_rank` order: reads only as far as the list needs.

    This is what lets publish stream 500,000 predictions from the database a
    block at a time and usually stop after the first: the rankings stop at
    ``min_score`` and each take stops when its slots are full.
    """
    n_explore = explore_slots(size, explore)
    above = takewhile(lambda c: c.score >= min_score, by_mean)
    per_work: dict[str, int] = {}
    chosen = _take(
        (c for c in above if c.track_id not in excluded),
        size - n_explore,
        per_work=per_work,
        max_per_work=max_per_work,
    )
    if n_explore:
        taken = set(chosen) | excluded
        upside = takewhile(lambda c: _upside(c) >= min_score, by_upside())
        chosen += _take(
            (c for c in upside if c.track_id not in taken),
            n_explore,
            per_work=per_work,
            max_per_work=max_per_work,
        )
    return chosen


def _upside(candidate: Candidate) -> float:
    return candidate.score + UCB_Z * candidate.spread


def _take(
    ordered: Iterable[Candidate],
    count: int,
    *,
    per_work: dict[str, int],
    max_per_work: int,
    per_performer: dict[str, int] | None = None,
    max_per_performer: int = 0,
) -> list[str]:
    """The first ``count`` of ``ordered`` within the caps (``per_*`` are updated)."""
    chosen: list[str] = []
    seen: set[str] = set()
    for candidate in ordered:
        if len(chosen) >= count:
            break
        if candidate.track_id in seen:
            continue
        if candidate.work is not None and per_work.get(candidate.work, 0) >= max_per_work:
            continue
        if (
            per_performer is not None
            and candidate.performer is not None
            and per_performer.get(candidate.performer, 0) >= max_per_performer
        ):
            continue
        if candidate.work is not None:
            per_work[candidate.work] = per_work.get(candidate.work, 0) + 1
        if per_performer is not None and candidate.performer is not None:
            per_performer[candidate.performer] = per_performer.get(candidate.performer, 0) + 1
        seen.add(candidate.track_id)
        chosen.append(candidate.track_id)
    return chosen


def teaching_value(candidate: Candidate) -> float:
    """How much the listener's answer about a track would teach the model.

    The entropy of the predicted chance of love (highest at 50 %, where the
    model cannot tell) plus the spread of the model's fold fits (where they
    disagree, the data near the track are thin): uncertainty sampling and
    query-by-committee in one number, both in bits-like units of 0-1.
    """
    p = min(max(candidate.score, 1e-9), 1 - 1e-9)
    entropy = -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
    return entropy + 2.0 * candidate.spread


TEACHING_BOUND_MARGIN = 1e-6
"""How far :func:`teaching_values` may be from :func:`teaching_value` at most, with room:
numpy's and ``math``'s logarithms differ by about 1e-16."""


def teaching_values(score: NDArray[np.float64], spread: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`teaching_value` over arrays (spread 0 where unknown), to cut a block of
    candidates before the exact ranking; within :data:`TEACHING_BOUND_MARGIN` of it."""
    p = np.clip(score, 1e-9, 1 - 1e-9)
    return np.asarray(2.0 * spread - (p * np.log2(p) + (1 - p) * np.log2(1 - p)), dtype=float)


SHORTLIST = 100
"""Tracks (per "Bach to rate" slot) with the highest teaching value that may be drawn."""
Typicality = Callable[[Sequence[Candidate]], Sequence[float]]


def teaching_shortlist(
    candidates: Iterable[Candidate], *, excluded: set[str], size: int
) -> list[Candidate]:
    """The ``SHORTLIST x size`` open candidates of highest teaching value, best first.

    A heap over the stream, so 500,000 candidates never sit in one list.
    """
    return heapq.nsmallest(
        SHORTLIST * size,
        (c for c in candidates if c.track_id not in excluded),
        key=lambda c: (-teaching_value(c), c.track_id),
    )


def _uniform(seed: int, track_id: str) -> float:
    """A number in (0, 1) fixed per seed and track."""
    digest = hashlib.blake2b(f"{seed}:{track_id}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2**64


def pick_to_rate(
    candidates: Iterable[Candidate],
    *,
    excluded: set[str],
    size: int,
    keep: Sequence[str] = (),
    typicality: Typicality | None = None,
    seed: int = 0,
) -> list[str]:
    """The tracks for "Bach to rate": ``size`` drawn in proportion to what they would teach.

    Each open track (not rated, liked or in "Predicted favourites":
    ``excluded``) among the ``SHORTLIST x size`` with the highest
    :func:`teaching_value` has a weight: that value times how typical it is
    of the catalogue (``typicality``, see :mod:`models.typicality`).  The
    tracks are drawn without replacement with probability in proportion to
    their weight rather than taken from the top: measured with ``bachbot
    replay`` (``bench/``), the top of the list - the tracks the model is least
    sure of - needed more answers than random picks to reach the same ROC AUC
    (on noisy labels the least certain tracks are mostly noise), while the
    weighted draw stayed level with random picks or ahead of them.  The draw
    uses one fixed random number per track and ``seed`` (Efraimidis and
    Spirakis' keys ``u ** (1 / weight)``), so the same model gives the same
    list and rating one track changes only that track's place.  At most one
    recording of a work and :data:`TO_RATE_PER_PERFORMER` of a performer go
    in one list.  Tracks of ``keep`` (the list as it is) that are still open
    and still on the shortlist stay first, in their order, so an unanswered
    list is not rewritten after every retrain.
    """
    shortlist = teaching_shortlist(candidates, excluded=excluded, size=size)
    weights = (
        [1.0] * len(shortlist)
        if typicality is None or not shortlist
        else [float(w) for w in typicality(shortlist)]
    )
    key = {
        c.track_id: math.log(_uniform(seed, c.track_id)) / max(teaching_value(c) * w, 1e-9)
        for c, w in zip(shortlist, weights, strict=True)
    }
    ordered = sorted(shortlist, key=lambda c: (-key[c.track_id], c.track_id))
    by_id = {c.track_id: c for c in shortlist}
    kept = [by_id[t] for t in dict.fromkeys(keep) if t in by_id]
    kept_ids = {c.track_id for c in kept}
    return _take(
        kept + [c for c in ordered if c.track_id not in kept_ids], size, per_work={},
        max_per_work=1, per_performer={}, max_per_performer=TO_RATE_PER_PERFORMER,
    )  # fmt: skip


def removed_by_user(
    *, published: Sequence[str], current: Sequence[str], liked: set[str]
) -> list[str]:
    """Tracks bachbot published that the user has since taken out of the playlist.

    A track the user liked and then removed is not a dislike: bachbot itself
    drops liked tracks from the list, and the like is the stronger signal.
    """
    present = set(current)
    return [t for t in dict.fromkeys(published) if t not in present and t not in liked]


def needs_rewrite(*, planned: Sequence[str], current: Sequence[str]) -> bool:
    """Write only when the ordered list differs (an unchanged list costs no call)."""
    return list(planned) != list(current)


def describe_to_rate(*, built_at: str, model_version: str | None, count: int) -> str:
    model = model_version or "no model yet"
    return (
        f"{TO_RATE_MARKER} on {built_at} with model {model}: {count} J. S. Bach recordings "
        "it cannot place yet. Like what you love, remove what you don't: each answer teaches it."
    )


DESCRIPTION_LIMIT = 300
"""Spotify's limit on a playlist description, in characters."""


def describe(
    *, built_at: str, model_version: str | None, count: int, taste: str | None = None
) -> str:
    """The description of "Predicted favourites": when, which model, and one line of the
    taste it learned (``taste``, left out rather than cut when it would not fit)."""
    model = model_version or "no model yet"
    text = (
        f"{PLAYLIST_MARKER} on {built_at} with model {model}: {count} new J. S. Bach "
        "recordings it predicts you will love. Remove a track to tell it you don't."
    )
    if taste and len(text) + 1 + len(taste) <= DESCRIPTION_LIMIT:
        text += " " + taste
    return text[:DESCRIPTION_LIMIT]
