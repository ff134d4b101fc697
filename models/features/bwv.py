"""Finding the BWV number in a track or album title.

Real titles spell it many ways: ``BWV 1007``, ``BWV1007``, ``BWV. 1007``,
``BWV 1007/1`` and ``BWV 1007:1`` (work and movement), ``BWV 988a``,
``BWV Anh. 114`` / ``BWV Anh. II 114`` / ``BWV Anhang 114``, and ranges such as
``BWV 846-869`` (the first number is kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BWV = re.compile(
    r"\bBWV\.?\s*"
    r"(?P<anh>Anh(?:ang)?\.?\s*(?:I{1,3}\s+)?)?"
    r"(?P<num>\d{1,4})(?!\d)(?P<suffix>[a-z](?![a-z]))?"
    r"(?:\s*[/:]\s*(?P<mvt>\d{1,3})\b)?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class BwvRef:
    """A BWV reference found in a title."""

    bwv: str
    """Normalised catalogue spelling: ``"1007"``, ``"988a"``, ``"Anh. 114"``."""
    number: int
    """The numeric part (for an Anhang number, the Anhang number)."""
    suffix: str
    anhang: bool
    movement: int | None
    """The ``/1`` or ``:1`` movement number some labels append."""


def parse_bwv(title: str) -> BwvRef | None:
    """The first BWV reference in ``title``, or None when there is none."""
    match = _BWV.search(title)
    if match is None:
        return None
    number = int(match["num"])
    suffix = (match["suffix"] or "").lower()
    anhang = bool(match["anh"])
    bwv = f"{'Anh. ' if anhang else ''}{number}{suffix}"
    movement = int(match["mvt"]) if match["mvt"] else None
    return BwvRef(bwv=bwv, number=number, suffix=suffix, anhang=anhang, movement=movement)
