"""Facts bachbot keeps between runs, each with a typed accessor: the only place a key is spelled.

The ``app_state`` table is a small key-value store (JSON values).  Modules
never read or write it by key; they use the slots below, which say what each
fact is, its Python type, and how it is stored - as Home Assistant's
entities read a coordinator's typed state rather than raw keys.  A value
that cannot be read (an older layout, a hand edit) reads as absent rather
than crashing a job.

    slot.get(session) -> value or None
    slot.put(session, value)
    slot.clear(session)

Failure tracking is shared: a job's back-off and a feature provider's
failing streak are both :class:`Failing` records, started and cleared by
:func:`note_failure` / :func:`note_recovery`, which tell the caller whether to
log "started failing" or "recovered" (once each, never on every tick).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from service.store.tables import AppState

T = TypeVar("T")


def _get_raw(session: Session, key: str) -> Any:
    row = session.get(AppState, key)
    return None if row is None else row.value


def _put_raw(session: Session, key: str, value: Any) -> None:
    row = session.get(AppState, key)
    if row is None:
        session.add(AppState(key=key, value=value))
    else:
        row.value = value
    session.flush()


def _clear_raw(session: Session, key: str) -> None:
    row = session.get(AppState, key)
    if row is not None:
        session.delete(row)
        session.flush()


@dataclass(frozen=True)
class Slot(Generic[T]):
    """One named fact: how it is stored, and how it is read back."""

    key: str
    decode: Callable[[Any], T]
    encode: Callable[[T], Any]

    def get(self, session: Session) -> T | None:
        raw = _get_raw(session, self.key)
        if raw is None:
            return None
        try:
            return self.decode(raw)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def put(self, session: Session, value: T) -> None:
        _put_raw(session, self.key, self.encode(value))

    def clear(self, session: Session) -> None:
        _clear_raw(session, self.key)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not a text value")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("not a number")
    return int(value)


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(_text(value))


def _time_text(value: datetime) -> str:
    return value.isoformat()


def _same(value: Any) -> Any:
    return value


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("not a mapping")
    return value


def text_slot(key: str) -> Slot[str]:
    return Slot(key, _text, _same)


def time_slot(key: str) -> Slot[datetime]:
    return Slot(key, _time, _time_text)


# --- publishing ------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingPublication:
    """A playlist write begun but not known to have finished (crash-safe publishing)."""

    playlist_id: str
    tracks: tuple[str, ...]

    @classmethod
    def decode(cls, value: Any) -> PendingPublication:
        data = _dict(value)
        return cls(_text(data["playlist_id"]), tuple(str(t) for t in data.get("tracks", ())))

    def encode(self) -> dict[str, Any]:
        return {"playlist_id": self.playlist_id, "tracks": list(self.tracks)}


BOT_PLAYLIST = text_slot("publish.playlist_id")
"""The id of "Predicted favourites", the playlist bachbot owns."""
PENDING_PUBLICATION: Slot[PendingPublication] = Slot(
    "publish.pending", PendingPublication.decode, PendingPublication.encode
)
PLAYLIST_RECREATED = text_slot("note.playlist_recreated")
"""Set (in words) when the user deleted the playlist and bachbot made it again."""

TO_RATE_PLAYLIST = text_slot("ask.playlist_id")
"""The id of "Bach to rate", bachbot's playlist of tracks to ask the listener about."""
TO_RATE_PENDING: Slot[PendingPublication] = Slot(
    "ask.pending", PendingPublication.decode, PendingPublication.encode
)
TO_RATE_RECREATED = text_slot("note.to_rate_recreated")
"""Set (in words) when the user deleted "Bach to rate" and bachbot made it again."""

# --- Spotify access ---------------------------------------------------------------------

AUTH_REVOKED = text_slot("auth.revoked")
"""Spotify's refusal of the token, in words; Spotify work pauses until a new login."""
LOGGED_IN_AT = time_slot("auth.logged_in_at")
"""When the user last completed ``bachbot auth``: Spotify's refresh token dies a
fixed time after it (``service.store.auth_health.LOGIN_LIFETIME``)."""


@dataclass(frozen=True)
class PendingLogin:
    """A ``bachbot auth`` waiting for the daemon's /callback."""

    state: str
    created_at: datetime

    @classmethod
    def decode(cls, value: Any) -> PendingLogin:
        data = _dict(value)
        return cls(_text(data["state"]), _time(data["created_at"]))

    def encode(self) -> dict[str, str]:
        return {"state": self.state, "created_at": self.created_at.isoformat()}


PENDING_LOGIN: Slot[PendingLogin] = Slot("auth.pending", PendingLogin.decode, PendingLogin.encode)
SPOTIFY_RESUME_AT = time_slot("spotify.resume_at")
"""Spotify asked bachbot to wait (Retry-After) until then."""
SPOTIFY_BLOCKED = text_slot("spotify.blocked")
"""Spotify refuses this app or user as a whole (owner's Premium, allow-list, quota), in
words with what to do; Spotify work pauses, re-checked at ``SPOTIFY_RESUME_AT``."""

# --- sync marks -------------------------------------------------------------------------

LIKES_MARK: Slot[dict[str, Any]] = Slot("sync.likes.mark", _dict, _same)
"""The newest like seen (``jobs.sync_likes.LikeMark`` reads and writes it)."""
LIKES_FULL_PASS_AT = time_slot("sync.likes.full_pass_at")
USER_ID = text_slot("sync.user_id")
OTHERS_PLAYLISTS_REFUSED_AT = time_slot("sync.others_playlists_refused_at")
"""When Spotify last refused this app the items of someone else's playlist: the
2026 rule holds for every such playlist, so the others are not asked until the
next re-check (an app with pre-2024 quota is never refused and always reads)."""
TOP_TRACKS_AT = time_slot("sync.top_tracks_at")
SAVED_ALBUMS: Slot[dict[str, Any]] = Slot("sync.saved_albums", _dict, _same)
"""Progress of the saved-albums walk (``jobs.sync_catalogue`` owns its layout)."""
NEW_RELEASES_AT = time_slot("sync.new_releases_at")
"""When the new-release search last ran (``jobs.sync_new_releases``)."""
NEWEST_READ: Slot[dict[str, Any]] = Slot("sync.newest_read", _dict, _same)
"""Composer artist ids whose newest releases a first sync has listed (value: when)."""
TRAIN_MARK: Slot[int] = Slot("train.rating_mark", _int, _same)
"""The newest rating event id the last training saw (retrain after N new ones)."""


MARK_MARGIN = timedelta(minutes=15)
"""How far before a complete pass's start its :class:`CheckedMark` is set.

A track is stamped (``updated_at``) when its row is written, which may be a
little before the transaction that wrote it commits; with the margin a track
written by a transaction still open when the pass began is looked at again by
the next pass rather than never.  Its cost: the next pass also looks at the
tracks of the quarter of an hour before this one (about a cycle's new tracks).
"""


@dataclass(frozen=True)
class CheckedMark:
    """Every track changed before ``through`` was looked at by a complete pass at ``version``.

    A job that must find "Bach tracks lacking X" keeps one, so a later pass asks
    only about tracks added or changed since (``ix_tracks_bach_updated``) instead of
    every track in the catalogue; another ``version`` (a provider's schema, a
    model) makes the mark void and the next pass looks at every track again.
    """

    version: int
    through: datetime

    @classmethod
    def decode(cls, value: Any) -> CheckedMark:
        data = _dict(value)
        return cls(_int(data["version"]), _time(data["through"]))

    def encode(self) -> dict[str, Any]:
        return {"version": self.version, "through": self.through.isoformat()}

    @classmethod
    def after_pass(cls, version: int, *, started: datetime) -> CheckedMark:
        """The mark a complete pass at ``version`` that began at ``started`` leaves."""
        return cls(version, started - MARK_MARGIN)

    def since(self, version: int) -> datetime | None:
        """Where a pass at ``version`` may start; None: look at every track."""
        return self.through if self.version == version else None


def features_checked(provider: str) -> Slot[CheckedMark]:
    """How far the features job has looked for tracks missing ``provider``'s row."""
    return Slot(f"features.{provider}.checked", CheckedMark.decode, CheckedMark.encode)


SCORE_CHECKED: Slot[CheckedMark] = Slot("score.checked", CheckedMark.decode, CheckedMark.encode)
"""How far the score job has looked for unscored tracks; ``version`` is the model's id."""

# --- failure tracking -------------------------------------------------------------------


@dataclass(frozen=True)
class Failing:
    """A streak of failures of one job or provider, with when it may try again."""

    failures: int
    error: str
    next_at: datetime | None = None

    @classmethod
    def decode(cls, value: Any) -> Failing:
        if isinstance(value, str):  # a provider's failing note before failures were counted
            return cls(1, value)
        data = _dict(value)
        next_at = data.get("next_at")
        return cls(
            _int(data["failures"]), str(data.get("error", "")), _time(next_at) if next_at else None
        )

    def encode(self) -> dict[str, Any]:
        return {
            "failures": self.failures,
            "error": self.error,
            "next_at": None if self.next_at is None else self.next_at.isoformat(),
        }


def job_backoff(job: str) -> Slot[Failing]:
    """A job's consecutive failures and when it may run again."""
    return Slot(f"backoff.{job}", Failing.decode, Failing.encode)


def provider_failing(provider: str) -> Slot[Failing]:
    """A feature provider that failed this cycle (and since when in a row)."""
    return Slot(f"provider.{provider}.failing", Failing.decode, Failing.encode)


@dataclass(frozen=True)
class Unavailable:
    """A provider switched off for good for this app (Spotify's 403 on audio features)."""

    since: str
    reason: str

    @classmethod
    def decode(cls, value: Any) -> Unavailable:
        data = _dict(value)
        return cls(str(data.get("since", "?")), str(data.get("reason", "")))

    def encode(self) -> dict[str, str]:
        return {"since": self.since, "reason": self.reason}


def provider_unavailable(provider: str) -> Slot[Unavailable]:
    return Slot(f"provider.{provider}.unavailable", Unavailable.decode, Unavailable.encode)


def note_failure(
    session: Session,
    slot: Slot[Failing],
    error: str,
    *,
    retry_at: Callable[[int], datetime] | None = None,
) -> Failing:
    """Count one more failure; ``failures == 1`` on the result means it just started.

    ``retry_at(failures)`` gives the time of the next attempt (a back-off).
    """
    previous = slot.get(session)
    failures = (previous.failures if previous else 0) + 1
    failing = Failing(failures, error, None if retry_at is None else retry_at(failures))
    slot.put(session, failing)
    return failing


def note_recovery(session: Session, slot: Slot[Failing]) -> bool:
    """Clear a failing streak; True when there was one (log "recovered" once)."""
    if slot.get(session) is None and _get_raw(session, slot.key) is None:
        return False
    slot.clear(session)
    return True


# --- explanations and frozen copies -----------------------------------------------------


@dataclass(frozen=True)
class TasteSummary:
    """What the model in use has learned, as the status page and the playlist description
    show it (written by the score job when a model scores for the first time)."""

    model_version: str
    features: tuple[dict[str, Any], ...]
    """``models.explain.TasteItem.to_dict()`` of each, largest effect first."""

    @classmethod
    def decode(cls, value: Any) -> TasteSummary:
        data = _dict(value)
        return cls(
            _text(data["model_version"]),
            tuple(_dict(f) for f in data.get("features", ())),
        )

    def encode(self) -> dict[str, Any]:
        return {"model_version": self.model_version, "features": list(self.features)}


TASTE: Slot[TasteSummary] = Slot("explain.taste", TasteSummary.decode, TasteSummary.encode)


@dataclass(frozen=True)
class ReferenceSample:
    """The candidates a model's explanations are measured against (its "average candidate").

    Drawn once per model from every unrated Bach track and kept, so a later score
    run of the same model explains its few new tracks against the same sample
    without reading the whole catalogue's ids again.
    """

    model_version_id: int
    track_ids: tuple[str, ...]

    @classmethod
    def decode(cls, value: Any) -> ReferenceSample:
        data = _dict(value)
        return cls(_int(data["model_version_id"]), tuple(str(t) for t in data["track_ids"]))

    def encode(self) -> dict[str, Any]:
        return {"model_version_id": self.model_version_id, "track_ids": list(self.track_ids)}


EXPLAIN_REFERENCE: Slot[ReferenceSample] = Slot(
    "explain.reference", ReferenceSample.decode, ReferenceSample.encode
)
LAST_FREEZE = time_slot("freeze.last_at")
"""When "Predicted favourites" was last copied to a frozen playlist (``bachbot freeze``)."""


@dataclass(frozen=True)
class PendingFreeze:
    """A copy begun but not known to be complete (``jobs.freeze`` finishes it next time)."""

    title: str
    description: str
    tracks: tuple[str, ...]
    playlist_id: str | None
    """None until Spotify answered the create."""

    @classmethod
    def decode(cls, value: Any) -> PendingFreeze:
        data = _dict(value)
        playlist_id = data.get("playlist_id")
        return cls(
            _text(data["title"]),
            str(data.get("description") or ""),
            tuple(str(t) for t in data.get("tracks", ())),
            _text(playlist_id) if playlist_id is not None else None,
        )

    def encode(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "tracks": list(self.tracks),
            "playlist_id": self.playlist_id,
        }


PENDING_FREEZE: Slot[PendingFreeze] = Slot(
    "freeze.pending", PendingFreeze.decode, PendingFreeze.encode
)
