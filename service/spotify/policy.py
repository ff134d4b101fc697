"""What to do with a failed Spotify call: pure decisions, tested by tables.

The gateway asks :func:`classify` for each error answer and acts on the
:class:`Outcome`: ``wait`` (429: sleep Retry-After, or stop when it is long),
``retry`` (5xx, network: back off with jitter), ``refresh`` (401: refresh the
token once), or a final ``forbidden`` / ``not_found`` / ``bad_request``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_RETRY_AFTER_S = 1.0
RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class Outcome:
    kind: str
    detail: str = ""
    retry_after_s: float = 0.0
    quota_exceeded: bool = False

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
        return Outcome("forbidden", message or "HTTP 403")
    if status == 404:
        return Outcome("not_found", message or "HTTP 404")
    return Outcome("bad_request", f"HTTP {status} {message}".strip())


def backoff_delay(base_s: float, failures: int, jitter: float) -> float:
    """Exponential backoff with jitter: between half and all of ``base * 2**(n-1)``."""
    return base_s * 2.0 ** (failures - 1) * (0.5 + jitter / 2)
