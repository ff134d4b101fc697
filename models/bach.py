"""Deciding whether a recording is Bach, and what its title says about it.

Spotify has no "composer" field: classical labels list the composer as one of
the track's artists (J. S. Bach is artist ``5aIqB5nVVvmFsvSdExz408``), but not
all of them do, so a title rule ("BWV" in the title) catches the rest.  Both
are configurable (``BACHBOT_COMPOSER_ARTIST_IDS``, ``BACHBOT_TITLE_PATTERNS``)
so the same daemon could follow another composer.

Pure: no database, no Spotify.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from models.features.titles import parse_title


@dataclass(frozen=True)
class BachRules:
    """The composer artist ids and title regexes that make a track count as Bach."""

    composer_ids: frozenset[str]
    title_patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, composer_ids: Iterable[str], title_patterns: Iterable[str]) -> BachRules:
        """Rules from the settings' lists; patterns match case-insensitively."""
        return cls(
            composer_ids=frozenset(composer_ids),
            title_patterns=tuple(re.compile(p, re.IGNORECASE) for p in title_patterns),
        )

    def matches(self, *, artist_ids: Iterable[str | None], title: str) -> bool:
        """True when a composer id is among the artists or a title rule matches."""
        if any(a in self.composer_ids for a in artist_ids if a):
            return True
        return any(p.search(title) for p in self.title_patterns)


def title_metadata(title: str) -> tuple[str | None, dict[str, Any]]:
    """``(bwv, meta)`` for ``Track.bwv`` and ``Track.meta``, read from the title."""
    info = parse_title(title)
    return info.bwv, info.to_meta()
