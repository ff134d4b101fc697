"""The feature-provider branch of the model's exception hierarchy.

    ModelError                         models.errors
    └── FeatureProviderError           a provider could not describe tracks this cycle
        ├── ProviderRateLimited        the upstream asked us to wait (``retry_after_s``)
        └── ProviderUnavailable        the upstream failed or refused (``status``, ``lasting``)

The features job catches :class:`FeatureProviderError` per provider: the provider
is skipped for this cycle, the others still run, and the next cycle retries,
except after a ``lasting`` refusal: the job stores it and tells the provider
class (``ProviderContext.switched_off_for_good``) on every later cycle.
"""

from __future__ import annotations

from models.errors import ModelError


class FeatureProviderError(ModelError):
    """A feature provider could not describe the tracks asked for."""

    def __init__(self, message: str, *, provider: str) -> None:
        super().__init__(message)
        self.provider = provider


class ProviderRateLimited(FeatureProviderError):
    """The upstream answered 429; ``retry_after_s`` says how long it wants us to wait."""

    def __init__(
        self, message: str, *, provider: str, retry_after_s: float, hold: bool = False
    ) -> None:
        super().__init__(message, provider=provider)
        self.retry_after_s = retry_after_s
        self.hold = hold
        """The job keeps the provider off until then (Deezer); else it retries next cycle."""


class ProviderUnavailable(FeatureProviderError):
    """The upstream failed (network, 5xx, malformed answer) or refused us (4xx).

    ``lasting``: asking again will not help (Spotify closed audio features to
    apps created after Nov 2024), so the job stops asking for good.
    """

    def __init__(
        self, message: str, *, provider: str, status: int | None = None, lasting: bool = False
    ) -> None:
        super().__init__(message, provider=provider)
        self.status = status
        self.lasting = lasting
