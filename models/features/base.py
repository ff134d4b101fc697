"""What a feature provider is, and how to add one.

A provider turns tracks into named numbers.  The features job runs each enabled
provider over the Bach tracks that have no stored row for it at its current
``schema_version``, stores what comes back in the ``features`` table, and never
asks again: a stored ``None`` ("this provider has nothing for this track") is
cached too.  Bumping ``schema_version`` makes every track due again.

Adding a provider:

1. Write a class in ``models/features/<name>.py`` with ``name`` (short, stable:
   it is the ``features.provider`` key), ``schema_version``, ``columns`` (the
   value names it returns, fixed order) and ``fetch(tracks)``, which returns one
   entry per track id asked for: a dict over ``columns`` (a value may be None)
   or None.  Raise :class:`~models.features.errors.FeatureProviderError`
   subclasses ``from`` the upstream error; never let a library error escape.
2. Take every client or setting it needs in ``__init__`` (an ``httpx.Client``,
   a gateway-like object typed by a Protocol): no environment, no globals, so
   tests hand it a loopback server.
3. Build it in ``jobs.features.build_providers`` and, if its numbers should reach
   the model, give its columns a block in ``models.matrix.FEATURE_SCHEMA``
   (which bumps the matrix schema version, so older models are refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

FeatureValues = dict[str, float | None]
"""One provider's numbers for one track, keyed by column name."""

ProviderResult = dict[str, FeatureValues | None]
"""Track id -> values, or None when the provider has nothing for that track."""


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


@runtime_checkable
class FeatureProvider(Protocol):
    """A source of per-track descriptors; see the module docstring for the contract."""

    name: str
    schema_version: int
    columns: tuple[str, ...]

    @property
    def available(self) -> bool:
        """False once the provider knows it cannot serve this app (then it is not called)."""
        ...

    def fetch(self, tracks: Sequence[TrackForFeatures]) -> ProviderResult:
        """Describe ``tracks``; one entry per track id, in any order."""
        ...
