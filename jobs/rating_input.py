"""What the user types or exports, read into ratings: track references, values, CSV files.

Pure: every problem is reported in words the user can act on, and a CSV
file is judged whole (all bad lines listed as ``line N: problem``), so
:func:`jobs.ratings.import_ratings` can be all or nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from service.errors import ConfigError

_TRACK_ID = re.compile(r"[0-9A-Za-z]{22}")
_URL_HOSTS = {"open.spotify.com", "play.spotify.com"}
REF_FORMS = (
    "a track id (22 letters and digits), a URI (spotify:track:ID) or a link "
    "(https://open.spotify.com/track/ID)"
)


def parse_track_ref(text: str) -> str:
    """The track id in ``text``: a bare id, ``spotify:track:ID`` or an open.spotify.com link."""
    value = text.strip()
    candidate: str | None = None
    if value.startswith("spotify:track:"):
        candidate = value.removeprefix("spotify:track:")
    elif value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        segments = [s for s in parts.path.split("/") if s]
        if parts.hostname in _URL_HOSTS and segments:
            if segments[0].startswith("intl-"):  # localised links: /intl-de/track/ID
                segments = segments[1:]
            if len(segments) == 2 and segments[0] == "track":
                candidate = segments[1]
    elif ":" not in value and "/" not in value:
        candidate = value
    if candidate is None or not _TRACK_ID.fullmatch(candidate):
        raise ValueError(f"{text.strip()!r} is not {REF_FORMS}")
    return candidate


def parse_rating(text: str) -> int:
    """A whole number from 1 to 10 (``8`` or ``8.0``)."""
    value = text.strip()
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"rating {value!r} is not a number") from None
    if number != number or not number.is_integer():
        raise ValueError(f"rating {value!r} is not a whole number from 1 to 10")
    if not 1 <= number <= 10:
        raise ValueError(f"rating {value} is out of range: ratings go from 1 to 10")
    return int(number)


@dataclass(frozen=True)
class RatingLine:
    line: int
    track_id: str
    value: int


class ImportRejected(ConfigError):
    """The CSV file has bad lines; nothing was imported."""

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__(
            f"{source}: {len(self.errors)} problem(s), nothing was imported; "
            "fix these lines and run the import again:\n" + "\n".join(self.errors)
        )


def _is_header(fields: Sequence[str]) -> bool:
    """A first line whose id column is no track reference and whose rating has no digit."""
    try:
        parse_track_ref(fields[0])
    except ValueError:
        return len(fields) < 2 or not any(ch.isdigit() for ch in fields[1])
    return False


DELIMITERS = (",", ";", "\t")
"""What separates the columns, in order of preference: spreadsheets in many locales
save "CSV" with semicolons, and copies from a table come with tabs."""


def _rows(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def sniff_delimiter(text: str) -> str:
    """The delimiter under which the most lines start with a track reference and have a
    second column; a comma when none stands out.

    Judged by content rather than by counting characters, so a quoted title
    with semicolons in a comma file, or ``7,5`` in a semicolon file, does not
    mislead it.
    """

    def score(delimiter: str) -> int:
        hits = 0
        for fields in _rows(text, delimiter):
            if len(fields) >= 2:
                try:
                    parse_track_ref(fields[0])
                except ValueError:
                    continue
                hits += 1
        return hits

    scores = {d: score(d) for d in DELIMITERS}
    best = max(scores.values())
    return next(d for d in DELIMITERS if scores[d] == best)


def parse_ratings_csv(text: str, *, source: str = "the file") -> list[RatingLine]:
    """Every line of a ratings CSV (``track, rating``; header optional), or ImportRejected.

    Columns may be separated by commas, semicolons or tabs (see
    :func:`sniff_delimiter`).  Blank lines are skipped and columns after the
    second ignored (an export may carry the title).  The same track twice with
    the same rating is one rating; with different ratings it is an error, since
    bachbot cannot tell which one the user means.
    """
    errors: list[str] = []
    lines: list[RatingLine] = []
    first_seen: dict[str, RatingLine] = {}
    text = text.lstrip("\ufeff")
    rows = _rows(text, sniff_delimiter(text))
    for number, fields in enumerate(rows, start=1):
        fields = [f.strip() for f in fields]
        if not any(fields):
            continue
        if number == 1 and _is_header(fields):
            continue
        if len(fields) < 2:
            errors.append(
                f"line {number}: expected two columns (track, rating) separated by a comma, "
                "semicolon or tab; found one"
            )
            continue
        problems: list[str] = []
        try:
            track_id = parse_track_ref(fields[0])
        except ValueError as err:
            problems.append(str(err))
            track_id = ""
        try:
            value = parse_rating(fields[1])
        except ValueError as err:
            problems.append(str(err))
            value = 0
        if problems:
            errors.append(f"line {number}: " + "; ".join(problems))
            continue
        earlier = first_seen.get(track_id)
        if earlier is None:
            entry = RatingLine(number, track_id, value)
            first_seen[track_id] = entry
            lines.append(entry)
        elif earlier.value != value:
            errors.append(
                f"line {number}: track {track_id} is rated {value} here but {earlier.value} "
                f"on line {earlier.line}; keep one of them"
            )
    if errors:
        raise ImportRejected(source, errors)
    if not lines:
        raise ImportRejected(
            source,
            [
                "line 1: no ratings found (expected lines like `track,rating`, the columns "
                "separated by a comma, semicolon or tab)"
            ],
        )
    return lines
