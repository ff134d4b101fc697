"""Keep bachbot's playlists filled: read what the user did to them, then write only if needed.

Two playlists (:class:`BotPlaylist`): "Predicted favourites" and "Bach to
rate" (tracks to ask about; ``BACHBOT_TO_RATE_SIZE=0`` turns it off).  Each
goes through the same three steps with plain values between them -
:func:`observe` (-> :class:`Observed`), a plan (:func:`plan` or
:func:`plan_to_rate`, -> :class:`Plan`), :func:`write` (-> :class:`Written`).
A removal from either counts as a low rating; a like anywhere counts as a like.
Order of work, each step chosen so a crash at any point is safe (the
``checkpoint`` calls are the job's commits, see :mod:`service.jobrunner`):

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.candidates import CandidateSource
from jobs.feature_matrix import load_matrix
from jobs.playlist_plan import (
    PLAYLIST_MARKER,
    TO_RATE_MARKER,
    Candidate,
    Typicality,
    describe,
    describe_to_rate,
    needs_rewrite,
    pick_to_rate,
    plan_ranked,
    removed_by_user,
)
from jobs.ratings import record_removals
from jobs.taste import taste_line
from models.typicality import reference_sample, standardised, typicality
from service.settings import Settings
from service.spotify.types import PlaylistInfo, PlaylistItem, User
from service.store.app_state import (
    BOT_PLAYLIST,
    PENDING_PUBLICATION,
    PLAYLIST_RECREATED,
    TASTE,
    TO_RATE_PENDING,
    TO_RATE_PLAYLIST,
    TO_RATE_RECREATED,
    PendingPublication,
    Slot,
)
from service.store.db import checkpoint
from service.store.model_versions import promoted_model
from service.store.ratings import liked_track_ids, rated_track_ids
from service.store.tables import (
    ModelVersion,
    Playlist,
    PlaylistKind,
    Publication,
    utcnow,
)

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


@dataclass(frozen=True)
class BotPlaylist:
    """One of bachbot's own playlists: its name, how it is found again, where its state lives."""

    kind: PlaylistKind
    name: str
    public: bool
    marker: str
    """The start of its description, by which a restart adopts it (see module step 1)."""
    playlist: Slot[str]
    pending: Slot[PendingPublication]
    recreated: Slot[str]

    def description(
        self, *, built_at: str, model_version: str | None, count: int, taste: str | None = None
    ) -> str:
        if self.kind == PlaylistKind.TO_RATE:
            return describe_to_rate(built_at=built_at, model_version=model_version, count=count)
        return describe(built_at=built_at, model_version=model_version, count=count, taste=taste)


def favourites(settings: Settings) -> BotPlaylist:
    return BotPlaylist(
        PlaylistKind.FAVOURITES, settings.playlist_name, settings.playlist_public,
        PLAYLIST_MARKER, BOT_PLAYLIST, PENDING_PUBLICATION, PLAYLIST_RECREATED,
    )  # fmt: skip


def to_rate(settings: Settings) -> BotPlaylist:
    return BotPlaylist(
        PlaylistKind.TO_RATE, settings.to_rate_name, settings.playlist_public,
        TO_RATE_MARKER, TO_RATE_PLAYLIST, TO_RATE_PENDING, TO_RATE_RECREATED,
    )  # fmt: skip


@dataclass
class PublishReport:
    """What one publish pass did: "Predicted favourites" first, then "Bach to rate"."""

    playlist_id: str = ""
    created: bool = False
    recreated: bool = False
    read_items: bool = False
    removals: list[str] = field(default_factory=list)
    published: int = 0
    rewritten: bool = False
    model_version: str | None = None
    to_rate_playlist_id: str | None = None
    """None: "Bach to rate" is off, or not made yet (no model in use)."""
    to_rate_published: int = 0
    to_rate_rewritten: bool = False
    to_rate_removals: list[str] = field(default_factory=list)


def _last_publication(*, session: Session, playlist_id: str) -> Publication | None:
    return session.scalars(
        select(Publication)
        .where(Publication.playlist_id == playlist_id)
        .order_by(Publication.id.desc())
        .limit(1)
    ).first()


def _create(
    *, session: Session, spotify: PlaylistWriter, spec: BotPlaylist, now: datetime
) -> PlaylistInfo:
    playlist = spotify.create_playlist(
        spec.name,
        public=spec.public,
        description=spec.description(built_at=_stamp(now), model_version=None, count=0),
    )
    spec.playlist.put(session, playlist.id)
    checkpoint(session)
    log.info("created playlist %r (%s)", spec.name, playlist.id)
    return playlist


def _find_or_create(
    *, session: Session, spotify: PlaylistWriter, spec: BotPlaylist, now: datetime
) -> tuple[PlaylistInfo, bool]:
    me = spotify.me()
    for playlist in spotify.my_playlists():
        if playlist.owner_id == me.id and (playlist.description or "").startswith(spec.marker):
            spec.playlist.put(session, playlist.id)
            checkpoint(session)
            log.info("adopted existing playlist %r (%s)", playlist.name, playlist.id)
            return playlist, False
    return _create(session=session, spotify=spotify, spec=spec, now=now), True


def _snapshot(
    *, session: Session, spotify: PlaylistWriter, playlist_id: str, listing_fresh: bool
) -> str | None:
    """The playlist's current snapshot id, or None when the user has deleted it.

    Deleting a playlist on Spotify only unfollows it (its owner can still GET
    it by id, and it answers 200), so the ``/me/playlists`` listing without it
    is the only signal: the sync's listing when it is fresh, else one made
    here (a one-shot ``bachbot publish``), for either bot playlist alike.
    """
    if listing_fresh:
        row = session.get(Playlist, playlist_id)
        return None if row is None else row.snapshot_id
    listed = {p.id: p.snapshot_id for p in spotify.my_playlists()}
    return listed.get(playlist_id)


def _read_items(spotify: PlaylistWriter, playlist_id: str) -> list[str]:
    return [i.track.id for i in spotify.playlist_items(playlist_id) if i.track is not None]


def _record_removals(
    session: Session,
    *,
    ours: set[str],
    current: list[str],
    already: tuple[str, ...],
    settings: Settings,
    now: datetime,
) -> tuple[str, ...]:
    """Record what the user took out of our list as removal ratings.

    Checkpoint: the user's signal must survive a failing write after it.
    """
    removed = removed_by_user(
        published=[t for t in ours if t not in already],
        current=current,
        liked=liked_track_ids(session=session),
    )
    if removed:
        record_removals(session=session, track_ids=removed, settings=settings, now=now)
        checkpoint(session)
    return tuple(removed)


@dataclass(frozen=True)
class Observed:
    """The playlist as it is on Spotify now, and what the user did to it.

    The plain value between :func:`observe`, :func:`plan` and :func:`write`.
    """

    playlist_id: str
    snapshot: str | None
    current: tuple[str, ...]
    """Its items, in order."""
    ours: frozenset[str]
    """What bachbot last wrote whole (only these can be the user's removals)."""
    last_snapshot: str | None
    """The snapshot id of bachbot's last recorded publication (None: none yet)."""
    pending: bool
    """A write of ours may have been interrupted: missing tracks may be ours."""
    created: bool = False
    recreated: bool = False
    read_items: bool = False
    removals: tuple[str, ...] = ()


def observe(
    *,
    session: Session,
    spotify: PlaylistWriter,
    settings: Settings,
    now: datetime,
    listing_fresh: bool,
    spec: BotPlaylist | None = None,
) -> Observed:
    """Find (or make) the playlist, see whether the user changed it, record removals.

    Checkpoints: the playlist's id as soon as it is found or made (no second
    playlist after a crash), and the user's removals (see
    :func:`_record_removals`).  ``spec`` defaults to "Predicted favourites".
    """
    spec = spec or favourites(settings)
    playlist_id = spec.playlist.get(session)
    pending = spec.pending.get(session) is not None
    created = recreated = False
    snapshot: str | None
    if playlist_id is None:
        # Found or made just now: its snapshot is known, and a listing taken
        # before this pass would not show it yet.
        found, created = _find_or_create(session=session, spotify=spotify, spec=spec, now=now)
        playlist_id, snapshot = found.id, found.snapshot_id
    else:
        snapshot = _snapshot(
            session=session, spotify=spotify, playlist_id=playlist_id, listing_fresh=listing_fresh
        )
    if snapshot is None:
        log.warning("playlist %s is gone (deleted by the user?); creating it again", playlist_id)
        made = _create(session=session, spotify=spotify, spec=spec, now=now)
        playlist_id, snapshot = made.id, made.snapshot_id
        spec.recreated.put(
            session, f'"{spec.name}" was deleted on Spotify and recreated on {_stamp(now)}'
        )
        recreated, pending = True, False
        spec.pending.clear(session)
    last = _last_publication(session=session, playlist_id=playlist_id)
    ours = set(last.track_ids) if last is not None and not pending else set()
    last_snapshot = None if last is None else last.snapshot_id
    if last is not None and not pending and snapshot == last_snapshot:
        return Observed(
            playlist_id, snapshot, tuple(last.track_ids), frozenset(ours), last_snapshot,
            pending, created, recreated,
        )  # fmt: skip
    current = _read_items(spotify, playlist_id)
    removals = _record_removals(
        session, ours=ours, current=current, already=(), settings=settings, now=now
    )
    return Observed(
        playlist_id, snapshot, tuple(current), frozenset(ours), last_snapshot, pending,
        created, recreated, read_items=True, removals=removals,
    )  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """What the playlist should hold, from which model, and whether that means a write."""

    tracks: tuple[str, ...]
    model_version: str | None

    def rewrites(self, observed: Observed) -> bool:
        return needs_rewrite(planned=list(self.tracks), current=list(observed.current))


def _source(session: Session, settings: Settings, model: ModelVersion) -> CandidateSource:
    return CandidateSource(session, model.id, settings.composer_artist_ids)


def plan(*, session: Session, settings: Settings, observed: Observed) -> Plan:
    """ "Predicted favourites": the model in use's best tracks within the caps.

    With no model in use (none yet, or the one in use was refused until the
    next retrain) the playlist stays as the listener last saw it.
    """
    model = promoted_model(session=session)
    if model is None:
        return Plan(observed.current, None)
    source = _source(session, settings, model)
    planned = plan_ranked(
        source.by_mean(),
        source.by_upside,
        excluded=rated_track_ids(session=session) | liked_track_ids(session=session),
        size=settings.playlist_size,
        min_score=settings.playlist_min_probability,
        max_per_work=settings.max_per_work,
        explore=settings.explore,
    )
    return Plan(tuple(planned), model.version)


def plan_to_rate(
    *,
    session: Session,
    settings: Settings,
    observed: Observed,
    favourites: Sequence[str],
) -> Plan:
    """ "Bach to rate": the tracks whose answers would teach the model in use most.

    Leaves out what is rated, liked or in "Predicted favourites"; keeps the
    tracks still waiting for an answer while they stay worth asking about.
    A full list drawn by the same model with nothing answered since is kept
    as it is without drawing again (a cycle with no news costs a query, not
    the 50,000 candidates and their features).
    """
    model = promoted_model(session=session)
    if model is None:
        return Plan(observed.current, None)
    excluded = rated_track_ids(session=session) | liked_track_ids(session=session) | set(favourites)
    last = _last_publication(session=session, playlist_id=observed.playlist_id)
    unchanged = (
        last is not None
        and last.model_version == model.version
        and len(observed.current) == settings.to_rate_size
        and not excluded.intersection(observed.current)
    )
    if unchanged:
        return Plan(observed.current, model.version)
    source = _source(session, settings, model)
    shortlist = source.teaching_shortlist(excluded=excluded, size=settings.to_rate_size)
    open_ids = source.open_ids(excluded)
    planned = pick_to_rate(
        source.described(shortlist),
        excluded=excluded,
        size=settings.to_rate_size,
        keep=observed.current,
        typicality=_typicality(session, open_ids, seed=model.id),
        seed=model.id,
    )
    return Plan(tuple(planned), model.version)


def _typicality(session: Session, open_ids: Iterable[str], *, seed: int) -> Typicality:
    """How typical shortlisted tracks are of the open catalogue (:mod:`models.typicality`).

    Measured against a fixed sample of it per model (so an unchanged model
    gives the same list); only the shortlist and the sample are loaded.
    """
    sample = reference_sample(open_ids, seed=seed)

    def weigh(shortlist: Sequence[Candidate]) -> Sequence[float]:
        ids = [c.track_id for c in shortlist]
        Z = standardised(load_matrix(session=session, track_ids=[*ids, *sample]))
        return [float(w) for w in typicality(Z[: len(ids)], Z[len(ids) :])]

    return weigh


@dataclass(frozen=True)
class Written:
    tracks: tuple[str, ...]
    snapshot: str | None
    removals: tuple[str, ...]
    """Removals noticed in the last look right before replacing."""


def write(
    *,
    session: Session,
    spotify: PlaylistWriter,
    settings: Settings,
    now: datetime,
    observed: Observed,
    planned: Plan,
    spec: BotPlaylist | None = None,
    replan: Callable[[], Plan] | None = None,
) -> Written:
    """Replace the playlist's items with the plan, safely.

    Checkpoint: the plan is recorded as pending before the first write, so a
    run after a crash mid-write knows missing tracks may be ours, not the
    user's.  Spotify has no conditional write, so the items are read once
    more right before replacing: a track the user removed since is a rating,
    not overwritten (the list is planned again, by ``replan``).
    """
    spec = spec or favourites(settings)
    spec.pending.put(session, PendingPublication(observed.playlist_id, planned.tracks))
    checkpoint(session)
    spotify.update_playlist_details(
        observed.playlist_id,
        description=spec.description(
            built_at=_stamp(now),
            model_version=planned.model_version,
            count=len(planned.tracks),
            taste=_taste_line(session, planned.model_version),
        ),
    )
    latest = _read_items(spotify, observed.playlist_id)
    late = _record_removals(
        session,
        ours=set(observed.ours) & set(observed.current),
        current=latest,
        already=observed.removals,
        settings=settings,
        now=now,
    )
    if late:
        again = (
            replan()
            if replan is not None
            else plan(session=session, settings=settings, observed=observed)
        )
        tracks = again.tracks
    else:
        tracks = planned.tracks
    snapshot = spotify.replace_playlist_items(
        observed.playlist_id, [f"spotify:track:{track_id}" for track_id in tracks]
    )
    return Written(tracks, snapshot, late)


@dataclass(frozen=True)
class Pass:
    """One playlist's publish pass, as the report needs it."""

    observed: Observed
    planned: Plan
    written: Written | None

    @property
    def tracks(self) -> tuple[str, ...]:
        return self.planned.tracks if self.written is None else self.written.tracks

    @property
    def removals(self) -> list[str]:
        return list(
            self.observed.removals + (() if self.written is None else self.written.removals)
        )


def publish_one(
    *,
    session: Session,
    spotify: PlaylistWriter,
    settings: Settings,
    spec: BotPlaylist,
    now: datetime,
    listing_fresh: bool,
    planner: Callable[[Observed], Plan],
) -> Pass:
    """:func:`observe`, the plan, :func:`write` if the list changed, then the publication row."""
    observed = observe(
        session=session, spotify=spotify, settings=settings, now=now,
        listing_fresh=listing_fresh, spec=spec,
    )  # fmt: skip
    planned = planner(observed)
    written: Written | None = None
    if planned.rewrites(observed):
        written = write(
            session=session, spotify=spotify, settings=settings, now=now, observed=observed,
            planned=planned, spec=spec, replan=lambda: planner(observed),
        )  # fmt: skip
    snapshot = observed.snapshot if written is None else written.snapshot
    changed = written is not None or observed.pending or snapshot != observed.last_snapshot
    if changed or observed.last_snapshot is None:
        session.add(
            Publication(
                playlist_id=observed.playlist_id,
                playlist_kind=spec.kind,
                snapshot_id=snapshot,
                track_ids=list(observed.current if written is None else written.tracks),
                model_version=planned.model_version,
                created_at=now,
            )
        )
    spec.pending.clear(session)
    return Pass(observed, planned, written)


def publish_playlist(
    *,
    session: Session,
    spotify: PlaylistWriter,
    settings: Settings,
    now: datetime | None = None,
    listing_fresh: bool = False,
) -> PublishReport:
    """One publish pass over "Predicted favourites", then "Bach to rate" (see the module).

    ``listing_fresh``: a sync has just listed ``/me/playlists`` into the
    playlists table, so each playlist's snapshot id (or its absence, when the
    user deleted it) is known without another call.  "Bach to rate" is made
    only once a model is in use, and left alone when it is turned off.
    """
    now = now or utcnow()
    fav = publish_one(
        session=session, spotify=spotify, settings=settings, spec=favourites(settings), now=now,
        listing_fresh=listing_fresh,
        planner=lambda observed: plan(session=session, settings=settings, observed=observed),
    )  # fmt: skip
    report = PublishReport(
        playlist_id=fav.observed.playlist_id,
        created=fav.observed.created,
        recreated=fav.observed.recreated,
        read_items=fav.observed.read_items,
        removals=fav.removals,
        published=len(fav.tracks),
        rewritten=fav.written is not None,
        model_version=fav.planned.model_version,
    )
    ask = to_rate(settings)
    wanted = settings.to_rate_size > 0 and (
        fav.planned.model_version is not None or ask.playlist.get(session) is not None
    )
    if wanted:
        checkpoint(session)
        asked = publish_one(
            session=session, spotify=spotify, settings=settings, spec=ask, now=now,
            listing_fresh=listing_fresh,
            planner=lambda observed: plan_to_rate(
                session=session, settings=settings, observed=observed, favourites=fav.tracks,
            ),
        )  # fmt: skip
        report.to_rate_playlist_id = asked.observed.playlist_id
        report.to_rate_published = len(asked.tracks)
        report.to_rate_rewritten = asked.written is not None
        report.to_rate_removals = asked.removals
    return report


def _taste_line(session: Session, model_version: str | None) -> str | None:
    """One line of what the model in use learned (only that model's, never an older one's)."""
    taste = TASTE.get(session)
    if taste is None or taste.model_version != model_version:
        return None
    return taste_line(taste.features)


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M UTC")
