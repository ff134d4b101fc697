"""Keep a "Predicted favourites" the listener loved: copy it to a playlist bachbot never touches.

``bachbot freeze`` (or the cycle, every ``BACHBOT_FREEZE_EVERY_DAYS``) creates
one new playlist owned by the user, "Predicted favourites YYYY-MM-DD" unless
named, and adds the tracks of the latest publication in their order.  That
costs the minimum Spotify allows: ``POST /me/playlists`` and one
``POST /playlists/{id}/items`` per 100 tracks, nothing read, because the
tracks are the ones bachbot itself last wrote (and observed: publish reads
the user's removals before it writes).

The copy is never bachbot's again:

* its id goes into no app-state slot, so publish never finds, writes or
  observes it (removals there are never read as ratings: only publish reads
  removals, and only from its own two playlists);
* its description does not start with either playlist marker, so a bachbot
  that lost its playlist id never adopts it;
* it is recorded in the playlists table as read at its final snapshot, so
  the next sync lists it as unchanged and reads nothing; if the listener
  adds tracks to it later, sync reads it like any playlist of theirs (a
  source of recordings, never of ratings).

A crash (or a refusal, or Retry-After) part-way leaves no half copy behind
for good.  Checkpoints: the planned copy (title, description, tracks) is
committed before the create, and the new playlist's id right after it
(``PENDING_FREEZE``).  The next freeze - by hand or by the schedule - first
finishes that copy: it reads what the playlist already holds and adds only
the rest, in order, so the listener ends with one complete copy, never a
second playlist nor a track twice.  If the crash came between the create
and its id being committed, the copy is found among the listener's
playlists by its exact title and description (which carries the day it was
kept); a copy the listener deleted meanwhile is made again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from jobs.playlist_plan import DESCRIPTION_LIMIT
from jobs.spotify_to_store import listed_playlist
from service.errors import FreezeRefused
from service.settings import Settings
from service.spotify.errors import SpotifyNotFound
from service.spotify.types import PlaylistInfo, PlaylistItem
from service.store.app_state import BOT_PLAYLIST, LAST_FREEZE, PENDING_FREEZE, PendingFreeze
from service.store.db import checkpoint
from service.store.history import last_publications
from service.store.playlists import StoredItem, store_items, upsert_playlist
from service.store.ratings import effective_ratings
from service.store.tables import Publication, utcnow

log = logging.getLogger(__name__)


class PlaylistCopier(Protocol):
    """The gateway calls a freeze needs (see service.spotify.gateway)."""

    def create_playlist(self, name: str, *, public: bool, description: str) -> PlaylistInfo: ...
    def add_playlist_items(self, playlist_id: str, uris: Sequence[str]) -> str | None: ...
    def playlist(self, playlist_id: str) -> PlaylistInfo: ...
    def playlist_items(
        self, playlist_id: str, *, name: str | None = None
    ) -> list[PlaylistItem]: ...
    def my_playlists(self) -> list[PlaylistInfo]: ...


@dataclass
class FreezeReport:
    playlist_id: str
    name: str
    tracks: int
    calls: int
    """Spotify requests made: the create and one add per 100 tracks (plus, when it
    finishes an interrupted copy, the reads of what that copy already holds)."""
    resumed: bool = False
    """True: this run finished a copy an earlier run was interrupted in."""


def frozen_name(settings: Settings, now: datetime) -> str:
    return f"{settings.playlist_name} {now:%Y-%m-%d}"


def frozen_title(settings: Settings, now: datetime, name: str | None) -> str:
    """The copy's name; ValueError for one that would be confused with bachbot's own."""
    title = (name if name is not None else frozen_name(settings, now)).strip()
    if not title:
        raise ValueError("the name is empty; give --name a name or leave it out")
    if title in (settings.playlist_name, settings.to_rate_name):
        raise ValueError(
            f'"{title}" is the name of one of bachbot\'s own playlists, which it rewrites; '
            "choose another --name"
        )
    if len(title) > 100:
        raise ValueError("the name is longer than 100 characters; choose a shorter --name")
    return title


def frozen_description(
    *, settings: Settings, built_at: datetime, model_version: str | None, now: datetime
) -> str:
    """What the copy says about itself (never starting like bachbot's own playlists)."""
    model = f" by model {model_version}" if model_version else ""
    text = (
        f'A copy of "{settings.playlist_name}" as bachbot built it on {built_at:%Y-%m-%d}'
        f"{model}, kept on {now:%Y-%m-%d}. bachbot never changes this playlist and "
        "learns nothing from what you do to it."
    )
    return text[:DESCRIPTION_LIMIT]


def freeze_due(*, last: datetime | None, now: datetime, every_days: int | None) -> bool:
    """Whether the scheduled freeze is due (pure): off without a period, else once per period."""
    if not every_days:
        return False
    return last is None or now - last >= timedelta(days=every_days)


def publication_to_freeze(*, session: Session, settings: Settings) -> Publication:
    """The latest list of "Predicted favourites"; :class:`FreezeRefused` when there is none."""
    latest, _ = last_publications(session=session)
    if latest is None or latest.playlist_id != BOT_PLAYLIST.get(session) or not latest.track_ids:
        raise FreezeRefused(
            f'nothing to freeze: "{settings.playlist_name}" has not been filled yet; '
            "run `bachbot publish` (or wait for the next cycle) first"
        )
    return latest


def freeze_playlist(
    *,
    session: Session,
    spotify: PlaylistCopier,
    settings: Settings,
    now: datetime | None = None,
    name: str | None = None,
) -> FreezeReport:
    """Copy the latest "Predicted favourites" to a new playlist (see the module).

    An interrupted copy is finished first, and that is this run's work (the
    listener asks again for another copy).
    """
    now = now or utcnow()
    pending = PENDING_FREEZE.get(session)
    if pending is not None:
        return _finish_interrupted(session, spotify, settings, pending, now)
    try:
        title = frozen_title(settings, now, name)
    except ValueError as err:
        raise FreezeRefused(f"cannot freeze: {err}") from err
    latest = publication_to_freeze(session=session, settings=settings)
    ratings = effective_ratings(session=session)
    tracks = tuple(
        str(t)
        for t in latest.track_ids
        if ratings.get(str(t), settings.love_threshold) >= settings.love_threshold
    )  # a published track the listener has since rated low is not kept
    description = frozen_description(
        settings=settings, built_at=latest.created_at, model_version=latest.model_version, now=now
    )
    PENDING_FREEZE.put(session, PendingFreeze(title, description, tracks, None))
    checkpoint(session)
    made = _create(session, spotify, settings, PendingFreeze(title, description, tracks, None))
    return _fill(session, spotify, made, tracks, [], now=now, calls=1, resumed=False)


def _create(
    session: Session, spotify: PlaylistCopier, settings: Settings, pending: PendingFreeze
) -> PlaylistInfo:
    made = spotify.create_playlist(
        pending.title, public=settings.playlist_public, description=pending.description
    )
    PENDING_FREEZE.put(session, dataclasses.replace(pending, playlist_id=made.id))
    checkpoint(session)
    return made


def _finish_interrupted(
    session: Session,
    spotify: PlaylistCopier,
    settings: Settings,
    pending: PendingFreeze,
    now: datetime,
) -> FreezeReport:
    """Find the copy an interrupted run made (or make it), then add what it lacks."""
    reads = 1
    found: PlaylistInfo | None = None
    if pending.playlist_id is not None:
        try:
            found = spotify.playlist(pending.playlist_id)
        except SpotifyNotFound:
            found = None  # the listener deleted the half copy: it is made again
    else:
        found = next(
            (
                p
                for p in spotify.my_playlists()
                if p.name == pending.title and (p.description or "") == pending.description
            ),
            None,
        )
    if found is None:
        made = _create(session, spotify, settings, pending)
        return _fill(
            session, spotify, made, pending.tracks, [], now=now, calls=reads + 1, resumed=True
        )
    items = spotify.playlist_items(found.id, name=pending.title)
    reads += max(1, -(-len(items) // 50))
    present = [i.track.id for i in items if i.track is not None]
    return _fill(
        session, spotify, found, pending.tracks, present, now=now, calls=reads, resumed=True
    )


def _fill(
    session: Session,
    spotify: PlaylistCopier,
    made: PlaylistInfo,
    tracks: Sequence[str],
    present: Sequence[str],
    *,
    now: datetime,
    calls: int,
    resumed: bool,
) -> FreezeReport:
    """Add the tracks the copy lacks, in order, and record it as complete.

    ``calls``: the Spotify requests made before (create, reads); the adds are counted here.
    """
    if list(tracks[: len(present)]) == list(present):
        missing = list(tracks[len(present) :])
    else:  # changed since the crash: keep what is there, add what is not
        have = set(present)
        missing = [t for t in tracks if t not in have]
    snapshot = (
        spotify.add_playlist_items(made.id, [f"spotify:track:{t}" for t in missing])
        if missing
        else None
    )
    final = dataclasses.replace(made, snapshot_id=snapshot or made.snapshot_id)
    row = upsert_playlist(
        session=session, playlist=listed_playlist(final), owned=True, is_bot=False
    )
    held = [*present, *missing]
    store_items(
        session=session,
        playlist=row,
        items=[StoredItem(i, t, now) for i, t in enumerate(held)],
        snapshot_id=final.snapshot_id,
        now=now,
    )
    LAST_FREEZE.put(session, now)
    PENDING_FREEZE.clear(session)
    log.info("froze %d tracks into playlist %r (%s)", len(held), made.name, made.id)
    return FreezeReport(made.id, made.name, len(held), calls + -(-len(missing) // 100), resumed)
