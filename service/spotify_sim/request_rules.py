"""Refuse what Spotify refuses before a handler runs: query limits, body shape, scopes.

Real Spotify answers 400 to a search ``offset`` past 1000 or a ``limit`` of 11,
400 "No uris provided" to a bare JSON array as the body of POST items, and 403
"Insufficient client scope" when the token lacks the operation's scope.  A
local Spotify that accepted these would let bachbot ship calls that fail
against the real one, so the rules come from the OpenAPI description itself:
:func:`service.spotify_sim.spec.request_rules` extracts them into
``openapi/request_rules.json`` (the runtime has no YAML parser, and the
container image no test dependencies); a test keeps the file equal to the spec.

:data:`SCOPE_ERRATA` lists where the spec's security section is known to be
stricter than Spotify; :data:`LIBRARY_SCOPES` refines ``/me/library``, whose
scope depends on the kind of URI saved.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

RULES_PATH = Path(__file__).parent / "openapi" / "request_rules.json"

INSUFFICIENT_SCOPE = "Insufficient client scope"
NO_URIS = "No uris provided"

SCOPE_ERRATA: dict[str, tuple[tuple[str, ...], str]] = {
    "GET /me": ((), "user-read-private/-email only add fields (email, country)"),
}
LIBRARY_SCOPES = {
    "track": "user-library-modify",
    "album": "user-library-modify",
    "episode": "user-library-modify",
    "show": "user-library-modify",
    "audiobook": "user-library-modify",
    "user": "user-follow-modify",
    "playlist": "playlist-modify-public",
}
"""The scope each URI kind needs in PUT/DELETE /me/library (the spec lists them together)."""

_TYPES: dict[str, type | tuple[type, ...]] = {
    "array": list,
    "object": dict,
    "string": str,
    "integer": int,
    "boolean": bool,
    "number": (int, float),
}


@functools.cache
def rules() -> dict[str, Any]:
    with RULES_PATH.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def check(
    key: str, query: dict[str, str], body: Any, granted: frozenset[str] | None
) -> tuple[int, str] | None:
    """(status, Spotify's message) when Spotify would refuse the request, else None.

    ``key`` is ``"METHOD /spec/path"``; ``granted`` the token's scopes (None: all).
    """
    rule = rules().get(key)
    if rule is None:
        return None
    problem = _query_problem(rule["query"], query) or _body_problem(rule["body"], body)
    if problem is not None:
        return 400, problem
    if granted is not None and not _scoped(key, rule["scopes"], query, granted):
        return 403, INSUFFICIENT_SCOPE
    return None


def _query_problem(params: dict[str, Any], query: dict[str, str]) -> str | None:
    for name, rule in params.items():
        raw = query.get(name)
        if raw is None:
            if rule["required"]:
                return f"Missing required parameter: {name}"
            continue
        if rule["type"] != "integer":
            continue
        try:
            value = int(raw)
        except ValueError:
            return f"Invalid {name}"
        low = rule.get("minimum", 0 if name in ("limit", "offset") else None)
        if (low is not None and value < low) or value > rule.get("maximum", value):
            return f"Invalid {name}"
    return None


def _body_problem(shape: dict[str, Any] | None, body: Any) -> str | None:
    if shape is None or body is None:
        return None
    uris = "uris" in shape["properties"]
    if not isinstance(body, dict):
        return NO_URIS if uris else "Error parsing JSON."
    for name in shape["required"]:
        if name not in body:
            return f"Missing required field: {name}"
    for name, kind in shape["properties"].items():
        if name not in body:
            continue
        value = body[name]
        wrong = not isinstance(value, _TYPES.get(kind, object))
        if kind in ("integer", "number") and isinstance(value, bool):
            wrong = True
        if wrong:
            return NO_URIS if uris and name == "uris" else f"Invalid {name}"
    return None


def _scoped(key: str, scopes: list[str], query: dict[str, str], granted: frozenset[str]) -> bool:
    if key in SCOPE_ERRATA:
        scopes = list(SCOPE_ERRATA[key][0])
    if key.endswith(" /me/library"):
        uris = query.get("uris", "").split(",")
        kinds = {uri.split(":")[1] for uri in uris if uri.count(":") >= 2}
        return all(LIBRARY_SCOPES.get(kind, "?") in granted for kind in kinds)
    return not scopes or any(scope in granted for scope in scopes)
