"""Checks of the local Spotify's answers that a JSON schema cannot express.

The spec's schemas say what fields a page has, not that they agree: a ``next``
link on the last page, a ``total`` smaller than what was shown, more items
than ``limit``, an error body whose status differs from the HTTP status, a
date that is not in Spotify's format.  bachbot's paging and incremental sync
lean on exactly these, so a local Spotify that got them wrong would let a
broken client pass.  Pure functions of the body; the server records what they
return as violations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
"""``added_at``/``played_at``: ISO 8601 in UTC with a Z, as Spotify sends them."""
RELEASE_DATE = {
    "year": re.compile(r"^\d{4}$"),
    "month": re.compile(r"^\d{4}-\d{2}$"),
    "day": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
}
PAGE_KEYS = frozenset({"items", "limit", "offset", "total", "next"})


def problems(status: int, body: Any) -> list[str]:
    """Every inconsistency in one answer (empty when it is consistent)."""
    found: list[str] = []
    if status >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("status") != status:
            found.append(f"<root>: error body says status {error.get('status')}, HTTP {status}")
        return found
    for where, node in _walk(body, ""):
        if node.keys() >= PAGE_KEYS:
            found += _page(where, node)
        for key in ("added_at", "played_at"):
            value = node.get(key)
            if isinstance(value, str) and not TIMESTAMP.match(value):
                found.append(f"{where}/{key}: {value!r} is not an ISO timestamp in UTC (...Z)")
        precision = node.get("release_date_precision")
        date = node.get("release_date")
        if isinstance(precision, str) and isinstance(date, str):
            pattern = RELEASE_DATE.get(precision)
            if pattern is None or not pattern.match(date):
                found.append(f"{where}/release_date: {date!r} does not match precision {precision}")
    return found


def _walk(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where or "<root>", node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def _page(where: str, page: dict[str, Any]) -> list[str]:
    items, limit, offset, total = page["items"], page["limit"], page["offset"], page["total"]
    if not (isinstance(items, list) and all(isinstance(n, int) for n in (limit, offset, total))):
        return []
    found = []
    if len(items) > limit:
        found.append(f"{where}: {len(items)} items on a page of limit {limit}")
    shown = offset + len(items)
    if items and shown > total:  # an offset past the end is an empty page, not an error
        found.append(f"{where}: items up to {shown} but total {total}")
    last = shown >= total
    if last and page["next"] is not None:
        found.append(f"{where}: a next link on the last page ({shown} of {total})")
    if not last and page["next"] is None and len(items) == limit:
        found.append(f"{where}: no next link, yet {total - shown} more items")
    return found
