"""What every sync source shares: the session, gateway, rules, "now", and the call budget.

Each source (playlists, catalogue, likes, listening) is a plain function of a
:class:`SyncContext`; :func:`jobs.sync.sync_library` builds one per cycle.
Tracks enter the catalogue through :func:`store_track` only, so the Bach
rules and title parsing are applied the same way whatever the source.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from jobs.spotify_to_store import track_facts
from models.bach import BachRules, title_metadata
from service.settings import Settings
from service.spotify.gateway import SpotifyGateway
from service.spotify.types import TrackInfo
from service.store.app_state import BOT_PLAYLIST, TO_RATE_PLAYLIST
from service.store.tables import Track, utcnow
from service.store.tracks import stored_tracks, upsert_track


class CallBudget:
    """How many more Spotify requests the catalogue walk may make this cycle.

    Counts through the gateway's own per-endpoint counter, so retries and
    extra pages count too; a first sync of thousands of albums therefore
    spreads over cycles instead of running into Spotify's rate limit.
    """

    def __init__(self, calls: Counter[str], limit: int) -> None:
        self._calls = calls
        self._start = calls.total()
        self.limit = limit

    @property
    def spent(self) -> int:
        return self._calls.total() - self._start

    @property
    def left(self) -> int:
        return max(0, self.limit - self.spent)

    def allows(self, cost: int = 1) -> bool:
        return self.left >= cost


@dataclass
class SyncContext:
    """One sync cycle's inputs."""

    session: Session
    spotify: SpotifyGateway
    settings: Settings
    now: datetime = field(default_factory=utcnow)
    rules: BachRules = field(init=False)
    new_track_ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rules = BachRules.of(self.settings.composer_artist_ids, self.settings.title_patterns)

    @property
    def bot_playlist_id(self) -> str | None:
        return BOT_PLAYLIST.get(self.session)

    @property
    def bot_playlists(self) -> tuple[tuple[str | None, str], ...]:
        """(stored id, name) of each of bachbot's own playlists: never a source of tracks."""
        return (
            (BOT_PLAYLIST.get(self.session), self.settings.playlist_name),
            (TO_RATE_PLAYLIST.get(self.session), self.settings.to_rate_name),
        )

    def keep_track(
        self, info: TrackInfo, *, source: str, known: dict[str, Track] | None = None
    ) -> bool:
        """Store ``info`` if it is Bach; True when it is stored."""
        stored, created = store_track(
            session=self.session, rules=self.rules, info=info, source=source, now=self.now,
            known=known,
        )  # fmt: skip
        if created:
            self.new_track_ids.add(info.id)
        return stored

    def keep_tracks(self, infos: Sequence[TrackInfo], *, source: str) -> list[bool]:
        """:meth:`keep_track` for a page of tracks: one query for the stored ones and one
        flush for the page (a playlist of 500 new recordings is two round trips, not 1,000)."""
        known = stored_tracks(session=self.session, ids=(i.id for i in infos if i.id))
        kept = [self.keep_track(info, source=source, known=known) for info in infos]
        self.session.flush()
        return kept


def store_track(
    *,
    session: Session,
    rules: BachRules,
    info: TrackInfo,
    source: str,
    force: bool = False,
    now: datetime | None = None,
    known: dict[str, Track] | None = None,
) -> tuple[bool, bool]:
    """Store ``info`` when it is Bach (or ``force``): ``(stored, created)``.

    The one way tracks enter the catalogue, so the Bach rules and the title
    metadata (BWV, key, mode, forms) are applied alike whatever the source.
    Local files carry no usable id and are skipped.
    """
    if info.is_local or not info.id:
        return False, False
    bach = rules.matches(artist_ids=(a.id for a in info.artists), title=info.name)
    if not bach and not force:
        return False, False
    bwv, meta = title_metadata(info.name)
    _, created = upsert_track(
        session=session,
        track=track_facts(info),
        is_bach=bach,
        bwv=bwv,
        meta=meta,
        source=source,
        now=now,
        known=known,
    )
    return True, created
