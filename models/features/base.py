"""What a feature provider is, and how to add one.

A provider turns tracks into named numbers.  The features job runs each
registered provider over the Bach tracks that have no stored row for it at its
current ``schema_version``, stores what comes back in the ``features`` table,
and never asks again: a stored ``None`` ("this provider has nothing for this
track") is cached too.  Bumping ``schema_version`` makes every track due again.

A provider *class* declares everything the rest of bachbot needs to know about
it (:class:`ProviderClass`); an *instance*, built for one cycle by
``from_context``, only fetches (:class:`FeatureProvider`).  Nothing outside the
class and its one line in :mod:`models.features.registry` names a provider.

Adding a provider:

1. Write a class in ``models/features/<name>.py`` with the declarations of
   :class:`ProviderClass` and ``fetch(tracks)``, which returns one entry per
   track id asked for: a dict over ``columns`` (a value may be None) or None.
   Raise :class:`~models.features.errors.FeatureProviderError` subclasses
   ``from`` the upstream error; never let a library error escape.
2. Take every client or setting it needs from the
   :class:`~models.features.context.ProviderContext` in ``from_context`` (no
   environment, no globals), so tests hand it a loopback server.
3. Add the class to ``PROVIDERS`` in :mod:`models.features.registry`.  Its
   columns then reach the feature matrix in its ``block``; that changes the
   matrix schema version, so models trained on other columns are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from models.features.context import ProviderContext, ProviderSettings, Skipped

FeatureValues = dict[str, float | None]
"""One provider's numbers for one track, keyed by column name."""


@dataclass(frozen=True, slots=True)
class Missing:
    """The provider has nothing for this track, and why (stored with the miss, shown by
    ``bachbot features --show``); a bare None is a miss without a stated reason."""

    reason: str


@dataclass(frozen=True, slots=True)
class Deferred:
    """Not asked this cycle (the provider's call budget ran out): nothing is stored, and
    the track is due again next cycle."""

    reason: str


ProviderResult = dict[str, FeatureValues | Missing | Deferred | None]
"""Track id -> values, or a miss (None or :class:`Missing`), or :class:`Deferred`."""


@dataclass(frozen=True, slots=True)
class TrackForFeatures:
    """The slice of a stored track a provider may look at (no ORM object leaks into models/)."""

    id: str
    name: str
    artists: Sequence[dict[str, Any]] = ()
    """``[{"id": ..., "name": ...}]`` in Spotify's order, composer included."""
    album_name: str | None = None
    album_type: str | None = None
    release_date: str | None = None
    duration_ms: int | None = None
    track_number: int | None = None
    bwv: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    isrc: str | None = None
    """The recording's ISRC from Spotify's ``external_ids`` (None: Spotify has none)."""


class FeatureProvider(Protocol):
    """A provider built for one cycle: it describes tracks, nothing else."""

    def fetch(self, tracks: Sequence[TrackForFeatures]) -> ProviderResult:
        """Describe ``tracks``; one entry per track id, in any order."""
        ...


class ProviderClass(Protocol):
    """What a provider class declares (as class attributes and classmethods).

    The registry holds the classes themselves, so a class missing a declaration
    is a type error on its registry line.
    """

    @property
    def name(self) -> str:
        """Short and stable: the ``features.provider`` key and the app-state key."""
        ...

    @property
    def title(self) -> str:
        """The provider as a listener knows it (the status page's line)."""
        ...

    @property
    def status_note(self) -> str | None:
        """Said after "on" on the status page: what using it sends elsewhere, if anything."""
        ...

    @property
    def schema_version(self) -> int:
        """Stored rows at another version are due again and ignored by the matrix."""
        ...

    @property
    def columns(self) -> tuple[str, ...]:
        """The value names ``fetch`` returns, in a fixed order."""
        ...

    @property
    def block(self) -> str:
        """The matrix block its columns go to (``<block>.<column>``)."""
        ...

    @property
    def priority(self) -> int:
        """Within the block, lower wins: a column takes this provider's value before a
        higher number's, which only fills what it left missing."""
        ...

    @property
    def order(self) -> int:
        """Position in the features job's chain (lower runs first)."""
        ...

    @property
    def chunk(self) -> int:
        """Tracks per fetch; each chunk is committed, so an interrupted run loses one."""
        ...

    @property
    def per_cycle(self) -> int | None:
        """Most tracks asked about per run (None: all), so one cycle's calls stay bounded."""
        ...

    def recheck_misses_days(self, settings: ProviderSettings) -> float | None:
        """Days after which a stored miss is asked about again (None: never, until the
        schema version changes); for upstreams whose catalogue grows."""
        ...

    def enabled(self, settings: ProviderSettings) -> bool:
        """False when the listener's settings switch it off (the status page says "off")."""
        ...

    def from_context(self, context: ProviderContext) -> FeatureProvider | Skipped:
        """The provider for this cycle, or why it does not run."""
        ...
