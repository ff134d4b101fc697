"""What a provider class is given to build itself for one cycle.

The features job owns the runtime pieces (the Spotify gateway, the HTTP client,
the settings, what the database says about earlier refusals) and hands them to
each registered class as one :class:`ProviderContext`; the class decides
whether it can run this cycle.  Everything here is typed by small Protocols so
``models/`` never imports ``service/``: the gateway and the settings class
satisfy them structurally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the registry is read by `bachbot status`, which needs no HTTP client
    import httpx


class AudioSource(Protocol):
    """The two gateway methods the Spotify audio provider needs (None for unknown ids)."""

    def audio_features(
        self, track_ids: Sequence[str]
    ) -> Mapping[str, Mapping[str, Any] | None]: ...

    def audio_analysis(self, track_id: str) -> Mapping[str, Any] | None: ...


class ProviderSettings(Protocol):
    """The settings providers read (``service.settings.Settings`` has them all).

    A provider that needs a new setting adds it to ``Settings`` and here.
    """

    @property
    def reccobeats_enabled(self) -> bool: ...

    @property
    def reccobeats_base(self) -> str: ...

    @property
    def composer_artist_ids(self) -> Sequence[str]: ...

    @property
    def preview_audio_enabled(self) -> bool: ...

    @property
    def deezer_base(self) -> str: ...

    @property
    def preview_audio_calls_per_cycle(self) -> int: ...
    @property
    def deezer_calls_per_second(self) -> float: ...

    @property
    def preview_audio_recheck_days(self) -> float: ...

    @property
    def data_dir(self) -> Path: ...


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """One cycle's runtime pieces, as every provider class sees them."""

    settings: ProviderSettings
    audio_source: AudioSource | None = None
    """Spotify's audio endpoints; None while there is no Spotify connection (or it is paused)."""
    audio_refused: tuple[type[Exception], ...] = ()
    """The gateway's exception types that mean "Spotify refuses this to the app"."""
    http_client: httpx.Client | None = None
    """For providers that call a third-party API directly."""
    switched_off_for_good: bool = False
    """This provider was refused for good earlier (stored by the job; see ``lasting``)."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """Why a provider does not run this cycle, in words for the job's report."""

    reason: str
