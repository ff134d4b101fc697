"""What to do with a failed Spotify call: pure decisions, tested by tables.

The gateway asks :func:`classify` for each error answer and acts on the
:class:`Outcome`: ``wait`` (429: sleep Retry-After, or stop when it is long),
``retry`` (5xx, network: back off with jitter), ``refresh`` (401: refresh the
token once), ``account_blocked`` (a 403 that refuses the whole app or user, not
one resource: pause every Spotify job), or a final ``forbidden`` / ``not_found``
/ ``bad_request``.

A 403 means two different things, told apart only by its message: "this
resource is not yours" (someone else's playlist, a closed endpoint) and "this
app or user may use nothing" (the app owner's Premium lapsed, the user is not
on the dashboard's allow-list, the app's quota is used up).  Treating the
second as the first would mark the user's own playlist unreadable and switch
providers off for good; see :data:`ACCOUNT_REFUSALS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_RETRY_AFTER_S = 1.0
RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class AccountRefusal:
    """A 403 that refuses everything: how to recognise it, and what the user can do."""

    reason: str
    markers: tuple[str, ...]
    """Lower-case fragments of Spotify's message (it has worded each several ways)."""
    advice: str


ACCOUNT_REFUSALS: tuple[AccountRefusal, ...] = (
    AccountRefusal(
        "owner_premium",
        ("premium subscription required", "premium required"),
        "since 2026 a development-mode app works only while the Spotify account that "
        "created it has Premium: renew Premium on that account; bachbot resumes by itself",
    ),
    AccountRefusal(
        "user_not_registered",
        ("not registered", "may not be registered", "not approved for app"),
        "add your Spotify account (its e-mail) under User Management of the app at "
        "https://developer.spotify.com/dashboard; bachbot resumes by itself",
    ),
    AccountRefusal(
        "app_quota",
        ("quota exceeded", "exceeded its quota", "request limit"),
        "the app's request quota is used up: wait for Spotify to reset it, or ask for "
        "more in the dashboard; bachbot resumes by itself",
    ),
)


def account_refusal(message: str) -> AccountRefusal | None:
    """The account-wide refusal a 403 message names, or None (a resource refusal)."""
    text = message.lower()
    return next((r for r in ACCOUNT_REFUSALS if any(m in text for m in r.markers)), None)


@dataclass(frozen=True)
class Outcome:
    kind: str
    detail: str = ""
    retry_after_s: float = 0.0
    quota_exceeded: bool = False
    refusal: AccountRefusal | None = None

    @classmethod
    def retry(cls, detail: str) -> Outcome:
        return cls("retry", detail)


def retry_after(headers: Mapping[str, str]) -> float:
    """Seconds from a Retry-After header (missing or odd: one second)."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return max(0.0, float(str(raw))) if raw is not None else DEFAULT_RETRY_AFTER_S
    except ValueError:
        return DEFAULT_RETRY_AFTER_S


def classify(status: int, headers: Mapping[str, str], text: str) -> Outcome:
    """The outcome of an HTTP error answer (``text``: Spotify's message and reason)."""
    message = " ".join(text.split(":", 1)[-1].split()) if text else ""
    if status == 429:
        return Outcome(
            "wait",
            f"HTTP 429 {message}".strip(),
            retry_after_s=retry_after(headers),
            quota_exceeded="QUOTA_EXCEEDED" in text,
        )
    if status in RETRY_STATUSES:
        return Outcome.retry(f"HTTP {status}")
    if status == 401:
        return Outcome("refresh", message)
    if status == 403:
        refusal = account_refusal(text)
        if refusal is not None:
            # spotipy's text is "URL:\n message reason": keep Spotify's own words only.
            said = text.rsplit(":\n", 1)[-1].removesuffix(" None").strip()
            return Outcome("account_blocked", said, refusal=refusal)
        return Outcome("forbidden", message or "HTTP 403")
    if status == 404:
        return Outcome("not_found", message or "HTTP 404")
    return Outcome("bad_request", f"HTTP {status} {message}".strip())


def backoff_delay(base_s: float, failures: int, jitter: float) -> float:
    """Exponential backoff with jitter: between half and all of ``base * 2**(n-1)``."""
    return base_s * 2.0 ** (failures - 1) * (0.5 + jitter / 2)
