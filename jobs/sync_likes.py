"""Candidate source and rating source: Liked Songs.

A like of a Bach track is a rating (``like_rating``, default 8).  Spotify lists
likes newest first, so each cycle pages only until it reaches the high-water
mark (the newest like seen in the last committed cycle): usually one call.
Likes that disappear cannot be seen that way, so every
``full_likes_pass_hours`` one full pass compares all likes with the standing
ones and retracts the missing (an unlike: history kept, see
:mod:`service.store.ratings`).

Non-Bach likes are not stored: they say nothing about taste in Bach
recordings, and the full pass re-examines every like, so a track that later
counts as Bach (new title rule, new composer id) is picked up then.

The mark and the last full pass are written in the job's own transaction,
together with the ratings they cover, so they only take effect when those
ratings are committed and can never run ahead of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobs.sync_context import SyncContext
from service.spotify.types import SavedTrack
from service.store.app_state import LIKES_FULL_PASS_AT, LIKES_MARK
from service.store.ratings import add_like, liked_track_ids, retract_like


@dataclass(frozen=True)
class LikeMark:
    """The newest like seen: when it was added and which track."""

    added_at: datetime
    track_id: str

    def to_state(self) -> dict[str, str]:
        return {"added_at": self.added_at.isoformat(), "track_id": self.track_id}

    @classmethod
    def from_state(cls, value: object) -> LikeMark | None:
        if not isinstance(value, dict):
            return None
        return cls(datetime.fromisoformat(value["added_at"]), str(value["track_id"]))


def newer_than(saved: Iterable[SavedTrack], mark: LikeMark | None) -> Iterator[SavedTrack]:
    """The likes before ``mark`` in a newest-first stream; stops there, so paging stops too.

    Likes added in the same second as the mark but listed before it are kept
    (processing a like twice is harmless; missing one is not).
    """
    for item in saved:
        if mark is not None and (
            item.added_at < mark.added_at
            or (item.added_at == mark.added_at and item.track.id == mark.track_id)
        ):
            return
        yield item


def full_pass_due(last: datetime | None, now: datetime, every: timedelta) -> bool:
    return last is None or now - last >= every


@dataclass
class LikesReport:
    full_pass: bool = False
    likes_seen: int = 0
    new_likes: int = 0
    retracted_likes: int = 0
    ignored_not_bach: int = 0


def sync_likes(ctx: SyncContext) -> LikesReport:
    """New likes become ratings; on a full pass, vanished likes are retracted."""
    session = ctx.session
    report = LikesReport()
    mark = LikeMark.from_state(LIKES_MARK.get(session))
    last_full = LIKES_FULL_PASS_AT.get(session)
    report.full_pass = full_pass_due(
        last_full,
        ctx.now,
        timedelta(hours=ctx.settings.full_likes_pass_hours),
    )
    standing = liked_track_ids(session=session)
    stream = ctx.spotify.iter_saved_tracks()
    seen: list[SavedTrack] = list(stream if report.full_pass else newer_than(stream, mark))
    report.likes_seen = len(seen)
    liked_now: set[str] = set()
    for item in seen:
        liked_now.add(item.track.id)
        if item.track.id in standing:
            continue
        if not ctx.keep_track(item.track, source="like"):
            report.ignored_not_bach += 1
            continue
        standing.add(item.track.id)
        if add_like(
            session=session,
            track_id=item.track.id,
            value=ctx.settings.like_rating,
            added_at=item.added_at,
            created_at=ctx.now,
        ):
            report.new_likes += 1
    if report.full_pass:
        for track_id in sorted(standing - liked_now):
            if retract_like(session=session, track_id=track_id, created_at=ctx.now):
                report.retracted_likes += 1
        LIKES_FULL_PASS_AT.put(session, ctx.now)
    if seen:
        newest = LikeMark(seen[0].added_at, seen[0].track.id)
        LIKES_MARK.put(session, newest.to_state())
    return report
