"""Faults a test injects into the local Spotify, per route and per call number.

    sim.faults.inject("GET /me", Fault.http(503), calls=[1, 2])   # 1st and 2nd call fail
    sim.faults.inject("GET /me/tracks", Fault.rate_limited(7200), times=1)
    sim.faults.inject("*", Fault.reset())                          # every route, every call
    sim.faults.inject("*", Fault.owner_premium_lapsed())           # 403 on everything

Call numbers count every request to that route since the server started
(faulted ones included), so ``calls=[1, 2]`` then a success reads as "two
failures, then the retry goes through".
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

OWNER_PREMIUM = "Active premium subscription required for the owner of the app"
NOT_REGISTERED = (
    "Check settings on developer.spotify.com/dashboard, the user may not be registered."
)
APP_QUOTA = "Your application has reached a rate/request limit (quota exceeded)"


@dataclass(frozen=True)
class Fault:
    """What to do instead of (or before) the normal answer."""

    kind: str
    status: int = 0
    retry_after_s: int | None = None
    message: str = ""
    delay_s: float = 0.0

    @classmethod
    def http(cls, status: int, message: str = "") -> Fault:
        """A bare error status (500, 502, 503, 404, ...) with a spec-shaped error body."""
        return cls("http", status=status, message=message or f"simulated {status}")

    @classmethod
    def rate_limited(cls, retry_after_s: int = 1, *, quota_exceeded: bool = False) -> Fault:
        message = "API rate limit exceeded"
        if quota_exceeded:
            message = "QUOTA_EXCEEDED: the app's daily quota is used up"
        return cls("http", status=429, retry_after_s=retry_after_s, message=message)

    @classmethod
    def owner_premium_lapsed(cls) -> Fault:
        """Every call of a development-mode app whose owner lost Premium (2026 rule)."""
        return cls("http", status=403, message=OWNER_PREMIUM)

    @classmethod
    def user_not_registered(cls) -> Fault:
        """Every call for a user missing from the dashboard's allow-list."""
        return cls("http", status=403, message=NOT_REGISTERED)

    @classmethod
    def app_quota_exceeded(cls) -> Fault:
        """Every call once the app's quota is used up, answered as a 403."""
        return cls("http", status=403, message=APP_QUOTA)

    @classmethod
    def expired_token(cls) -> Fault:
        return cls("http", status=401, message="The access token expired")

    @classmethod
    def slow(cls, delay_s: float) -> Fault:
        """Answer normally, but only after ``delay_s`` seconds."""
        return cls("slow", delay_s=delay_s)

    @classmethod
    def reset(cls) -> Fault:
        """Drop the connection (TCP RST) without answering."""
        return cls("reset")

    @classmethod
    def malformed_json(cls) -> Fault:
        """Status 200 with a body that is not JSON at all."""
        return cls("malformed")

    @classmethod
    def truncated_json(cls) -> Fault:
        """Status 200 with the real body cut in half."""
        return cls("truncated")


@dataclass
class _Rule:
    route: str
    fault: Fault
    calls: frozenset[int] | None
    remaining: int | None
    fired: int = 0


@dataclass
class Faults:
    """The injection table; thread-safe, consulted once per request."""

    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(
        self,
        route: str,
        fault: Fault,
        *,
        calls: Iterable[int] | None = None,
        times: int | None = None,
    ) -> None:
        """Fail ``route`` (``"*"`` for all) on the given call numbers, or the next ``times``.

        With neither, every call fails until :meth:`clear`.
        """
        with self._lock:
            self._rules.append(
                _Rule(route, fault, frozenset(calls) if calls is not None else None, times)
            )

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pick(self, route: str, call_number: int) -> Fault | None:
        """The fault for this call, if any (the first matching rule wins)."""
        with self._lock:
            for rule in self._rules:
                if rule.route not in (route, "*"):
                    continue
                if rule.calls is not None and call_number not in rule.calls:
                    continue
                if rule.remaining is not None:
                    if rule.remaining <= 0:
                        continue
                    rule.remaining -= 1
                rule.fired += 1
                return rule.fault
        return None
