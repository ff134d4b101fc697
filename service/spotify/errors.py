"""The gateway's errors: what can go wrong talking to Spotify, translated from spotipy.

    BachbotError
    └── SpotifyError                    anything at the Spotify boundary
        ├── SpotifyUnavailable          5xx / network / garbage after bounded retries
        ├── SpotifyRateLimited          429 with a long Retry-After or QUOTA_EXCEEDED
        ├── SpotifyAuthRevoked          refresh refused (invalid_grant): run `bachbot auth`
        ├── SpotifyClientRejected       token endpoint refused the client id/secret
        ├── SpotifyNotAuthenticated     no token stored yet: run `bachbot auth`
        ├── SpotifyAccountBlocked       403 on everything: owner's Premium, allow-list, quota
        ├── SpotifyRestricted           403: a resource the app may not read (2026 rules)
        └── SpotifyNotFound             404: the id does not exist (any more)
    UsageError
    └── SpotifyNotConfigured            no client id/secret set: nothing was asked (exit 2)

Each carries its context as attributes and a message naming the thing, the
cause and the next step; the gateway raises them ``from`` spotipy's exception.
"""

from __future__ import annotations

from datetime import datetime

from service.errors import BachbotError, UsageError

CREDENTIAL_SETTINGS = "BACHBOT_SPOTIFY_CLIENT_ID and BACHBOT_SPOTIFY_CLIENT_SECRET"


class SpotifyError(BachbotError):
    """Base of every Spotify-boundary error."""

    def __init__(self, message: str, *, endpoint: str = "") -> None:
        super().__init__(message)
        self.endpoint = endpoint


class SpotifyUnavailable(SpotifyError):
    """Spotify kept failing (5xx, reset, timeout, unreadable answer); try again later."""

    def __init__(self, *, endpoint: str, cause: str, attempts: int) -> None:
        super().__init__(
            f"Spotify {endpoint} failed {attempts} time(s), last with {cause}; "
            "bachbot will try again on the next cycle",
            endpoint=endpoint,
        )
        self.cause = cause
        self.attempts = attempts


class SpotifyRateLimited(SpotifyError):
    """Spotify asked us to stop for longer than we are willing to wait in-process."""

    def __init__(
        self, *, endpoint: str, retry_after_s: float, resume_at: datetime, quota_exceeded: bool
    ) -> None:
        why = "the app's quota is exceeded" if quota_exceeded else "rate limited"
        super().__init__(
            f"Spotify {endpoint}: {why} (Retry-After {retry_after_s:.0f} s); "
            f"Spotify work pauses until {resume_at.isoformat(timespec='seconds')}",
            endpoint=endpoint,
        )
        self.retry_after_s = retry_after_s
        self.resume_at = resume_at
        self.quota_exceeded = quota_exceeded


class SpotifyAuthRevoked(SpotifyError):
    """The refresh token was refused: the user revoked access or it expired."""

    def __init__(self, *, endpoint: str = "", detail: str = "") -> None:
        super().__init__(
            "Spotify refused to refresh bachbot's access"
            + (f" ({detail})" if detail else "")
            + "; the grant was revoked or expired: run `bachbot auth` again",
            endpoint=endpoint,
        )


class SpotifyClientRejected(SpotifyError):
    """The token endpoint refused bachbot's client id or secret (``invalid_client``).

    Not a login problem (``bachbot auth`` would fail the same way) and not
    transient: usually the secret was reset in the dashboard."""

    def __init__(self, *, endpoint: str = "", detail: str = "") -> None:
        super().__init__(
            "Spotify refused bachbot's app credentials"
            + (f" ({detail})" if detail else "")
            + f"; check {CREDENTIAL_SETTINGS} against the app in "
            "https://developer.spotify.com/dashboard (was the secret reset?), then restart",
            endpoint=endpoint,
        )
        self.detail = detail


class SpotifyNotAuthenticated(SpotifyError):
    """No token is stored yet."""

    def __init__(self) -> None:
        super().__init__(
            "no Spotify account is connected yet (no token is stored); run `bachbot auth` to "
            "connect yours"
        )


class SpotifyNotConfigured(UsageError):
    """The Spotify app's client id or secret is not set, so no Spotify call can be made."""

    def __init__(self, need: str = "bachbot needs to talk to Spotify here") -> None:
        """``need`` says why Spotify was wanted, e.g. ``track X is new to bachbot``."""
        super().__init__(
            f"{need}, but {CREDENTIAL_SETTINGS} are not set; create an app at "
            "https://developer.spotify.com/dashboard and put them in .env (README: "
            "'Connect your Spotify account')"
        )
        self.need = need


class SpotifyAccountBlocked(SpotifyError):
    """A 403 that refuses the app or the user as a whole, not one resource.

    Deliberately not a :class:`SpotifyRestricted`: nothing may be marked as
    refused for good because of it (the user's own playlist, a provider); the
    job runner pauses every Spotify job instead and re-checks later.
    """

    def __init__(self, *, endpoint: str, reason: str, detail: str, advice: str) -> None:
        super().__init__(
            f"Spotify refuses every request of this app ({detail or reason}); {advice}",
            endpoint=endpoint,
        )
        self.reason = reason
        self.detail = detail
        self.advice = advice


class SpotifyRestricted(SpotifyError):
    """A 403 on a resource the app may not use (someone else's playlist, a closed endpoint)."""

    def __init__(self, message: str, *, endpoint: str, resource: str, reason: str) -> None:
        super().__init__(message, endpoint=endpoint)
        self.resource = resource
        self.reason = reason


class SpotifyNotFound(SpotifyError):
    """A 404: the playlist, album or track does not exist (any more)."""

    def __init__(self, *, endpoint: str, resource: str) -> None:
        super().__init__(
            f"Spotify has no {resource} ({endpoint} answered 404); it may have been removed",
            endpoint=endpoint,
        )
        self.resource = resource
