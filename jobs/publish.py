"""Keep "Predicted favourites" filled: read what the user did to it, then write it only if needed.

Order of work, each step chosen so a crash at any point is safe:

1. Find the playlist: the stored id; else adopt an owned playlist whose
   description carries :data:`PLAYLIST_MARKER` (created by a run that died
   before recording it); else create it once with ``POST /me/playlists``.  The
   id is committed at once, so no later crash can cause a second playlist.
2. Observe it: its snapshot id from the sync's fresh ``/me/playlists``
   listing (no call), else ``GET /playlists/{id}``.  Unchanged since our last
   write means the user did nothing: no items read.  Missing from the listing
   (or a 404) means the user deleted it: it is recreated once and the status
   says so.
3. If it changed, read the items; tracks we published that the user removed
   by hand become removal ratings before anything is replaced.
4. Plan the list (:func:`jobs.playlist_plan.plan_playlist`); if it differs
   from what is there, record the plan as pending (committed), update the
   description, replace the items in as few calls as Spotify allows, record
   the publication and clear the pending mark.  A run that finds a pending
   mark knows the playlist may be half-written by us and does not read
   missing tracks as user removals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.playlist_plan import (
    PLAYLIST_MARKER,
    Candidate,
    describe,
    needs_rewrite,
    plan_playlist,
    removed_by_user,
    work_key,
)
from jobs.ratings import record_removals
from service.settings import Settings
from service.spotify.errors import SpotifyNotFound
from service.spotify.types import PlaylistInfo, PlaylistItem, User
from service.store.app_state import (
    BOT_PLAYLIST,
    PENDING_PUBLICATION,
    PLAYLIST_RECREATED,
    PendingPublication,
)
from service.store.model_versions import promoted_model
from service.store.models import (
    ModelVersion,
    Playlist,
    Prediction,
    Publication,
    Track,
    utcnow,
)
from service.store.ratings import liked_track_ids, rated_track_ids

log = logging.getLogger(__name__)


class PlaylistWriter(Protocol):
    """The gateway calls publishing needs (see service.spotify.gateway)."""

    def me(self) -> User: ...
    def my_playlists(self) -> list[PlaylistInfo]: ...
    def playlist(self, playlist_id: str) -> PlaylistInfo: ...
    def playlist_items(self, playlist_id: str) -> list[PlaylistItem]: ...
    def create_playlist(self, name: str, *, public: bool, description: str) -> PlaylistInfo: ...
    def update_playlist_details(
        self, playlist_id: str, *, name: str | None = None, description: str | None = None
    ) -> None: ...
    def replace_playlist_items(self, playlist_id: str, uris: Any) -> str: ...


@dataclass
class PublishReport:
    playlist_id: str = ""
    created: bool = False
    recreated: bool = False
    read_items: bool = False
    removals: list[str] = field(default_factory=list)
    published: int = 0
    rewritten: bool = False
    model_version: str | None = None


def load_candidates(*, session: Session, model: ModelVersion) -> list[Candidate]:
    rows = session.execute(
        select(Prediction.track_id, Prediction.score, Prediction.uncertainty, Track.bwv)
        .join(Track, Track.id == Prediction.track_id)
        .where(Prediction.model_version_id == model.id, Track.is_bach.is_(True))
    ).all()
    return [Candidate(r.track_id, r.score, r.uncertainty, work_key(r.bwv)) for r in rows]


def _last_publication(*, session: Session, playlist_id: str) -> Publication | None:
    return session.scalars(
        select(Publication)
        .where(Publication.playlist_id == playlist_id)
        .order_by(Publication.id.desc())
        .limit(1)
    ).first()


def _create(
    *, session: Session, spotify: PlaylistWriter, settings: Settings, now: datetime
) -> PlaylistInfo:
    playlist = spotify.create_playlist(
        settings.playlist_name,
        public=settings.playlist_public,
        description=describe(built_at=_stamp(now), model_version=None, count=0),
    )
    BOT_PLAYLIST.put(session, playlist.id)
    session.commit()
    log.info("created playlist %r (%s)", settings.playlist_name, playlist.id)
    return playlist


def _find_or_create(
    *, session: Session, spotify: PlaylistWriter, settings: Settings, now: datetime
) -> tuple[PlaylistInfo, bool]:
    me = spotify.me()
    for playlist in spotify.my_playlists():
        if playlist.owner_id == me.id and (playlist.description or "").startswith(PLAYLIST_MARKER):
            BOT_PLAYLIST.put(session, playlist.id)
            session.commit()
            log.info("adopted existing playlist %r (%s)", playlist.name, playlist.id)
            return playlist, False
    return _create(session=session, spotify=spotify, settings=settings, now=now), True


def _observe(
    *, session: Session, spotify: PlaylistWriter, playlist_id: str, listing_fresh: bool
) -> str | None:
    """The playlist's current snapshot id, or None when the user has deleted it.

    Deleting a playlist on Spotify only unfollows it (its owner can still GET
    it), so a fresh ``/me/playlists`` listing without it is the real signal; a
    404 is treated the same way.
    """
    if listing_fresh:
        row = session.get(Playlist, playlist_id)
        return None if row is None else row.snapshot_id
    try:
        return spotify.playlist(playlist_id).snapshot_id
    except SpotifyNotFound:
        return None


def _read_items(spotify: PlaylistWriter, playlist_id: str) -> list[str]:
    return [i.track.id for i in spotify.playlist_items(playlist_id) if i.track is not None]


def _note_removals(
    session: Session,
    report: PublishReport,
    *,
    ours: set[str],
    current: list[str],
    settings: Settings,
    now: datetime,
) -> list[str]:
    """Record what the user took out of our list as removal ratings (committed at once:
    the user's signal must survive a failing write)."""
    removed = removed_by_user(
        published=[t for t in ours if t not in report.removals],
        current=current,
        liked=liked_track_ids(session=session),
    )
    if removed:
        record_removals(session=session, track_ids=removed, settings=settings, now=now)
        session.commit()
        report.removals += removed
    return removed


def _plan(session: Session, settings: Settings, report: PublishReport) -> list[str]:
    model = promoted_model(session=session)
    report.model_version = model.version if model else None
    candidates = [] if model is None else load_candidates(session=session, model=model)
    planned = plan_playlist(
        candidates,
        excluded=rated_track_ids(session=session) | liked_track_ids(session=session),
        size=settings.playlist_size,
        min_score=settings.playlist_min_probability,
        max_per_work=settings.max_per_work,
    )
    report.published = len(planned)
    return planned


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M UTC")


def publish_playlist(
    *,
    session: Session,
    spotify: PlaylistWriter,
    settings: Settings,
    now: datetime | None = None,
    listing_fresh: bool = False,
) -> PublishReport:
    """One publish pass; see the module docstring for the order and why.

    ``listing_fresh``: a sync has just listed ``/me/playlists`` into the
    playlists table, so the bot playlist's snapshot id (or its absence, when
    the user deleted it) is known without another call.
    """
    now = now or utcnow()
    report = PublishReport()
    playlist_id = BOT_PLAYLIST.get(session)
    pending = PENDING_PUBLICATION.get(session)
    snapshot: str | None
    if playlist_id is None:
        # Found or made just now: its snapshot is known, and a listing taken
        # before this pass would not show it yet.
        found, report.created = _find_or_create(
            session=session, spotify=spotify, settings=settings, now=now
        )
        playlist_id, snapshot = found.id, found.snapshot_id
    else:
        snapshot = _observe(
            session=session, spotify=spotify, playlist_id=playlist_id, listing_fresh=listing_fresh
        )
    if snapshot is None:
        log.warning("playlist %s is gone (deleted by the user?); creating it again", playlist_id)
        created = _create(session=session, spotify=spotify, settings=settings, now=now)
        playlist_id, snapshot = created.id, created.snapshot_id
        PLAYLIST_RECREATED.put(
            session,
            f'"{settings.playlist_name}" was deleted on Spotify and recreated on {_stamp(now)}',
        )
        report.recreated, pending = True, None
        PENDING_PUBLICATION.clear(session)
    report.playlist_id = playlist_id

    last = _last_publication(session=session, playlist_id=playlist_id)
    # What we last wrote, when we know it was written whole: only these can be
    # tracks the user removed (after an interrupted write, missing ones are ours).
    ours = set(last.track_ids) if last is not None and not pending else set()
    if last is not None and not pending and snapshot == last.snapshot_id:
        current = list(last.track_ids)
    else:
        current = _read_items(spotify, playlist_id)
        report.read_items = True
        _note_removals(session, report, ours=ours, current=current, settings=settings, now=now)

    planned = _plan(session, settings, report)
    if report.model_version is None:
        # No model in use (none yet, or the one in use was refused until the next
        # retrain): leave the playlist as the listener last saw it.
        planned = current
    if needs_rewrite(planned=planned, current=current):
        PENDING_PUBLICATION.put(session, PendingPublication(playlist_id, tuple(planned)))
        session.commit()
        spotify.update_playlist_details(
            playlist_id,
            description=describe(
                built_at=_stamp(now), model_version=report.model_version, count=len(planned)
            ),
        )
        # Spotify has no conditional write: look once more right before replacing,
        # so a track the user removed since we looked is a rating, not overwritten.
        latest = _read_items(spotify, playlist_id)
        if _note_removals(
            session, report, ours=ours & set(current), current=latest, settings=settings, now=now
        ):
            planned = _plan(session, settings, report)
        snapshot = spotify.replace_playlist_items(
            playlist_id, [f"spotify:track:{track_id}" for track_id in planned]
        )
        report.rewritten = True
    if report.rewritten or pending or last is None or snapshot != last.snapshot_id:
        session.add(
            Publication(
                playlist_id=playlist_id,
                snapshot_id=snapshot,
                track_ids=planned if report.rewritten else current,
                model_version=report.model_version,
                created_at=now,
            )
        )
    PENDING_PUBLICATION.clear(session)
    return report
