"""The bundled BWV catalogue: number -> title, catalogue group, key, mode, scoring.

``data/bwv.csv`` lists the works people actually record (every WTC prelude and
fugue, the suites, sonatas, partitas, concertos, the big choral works, the
famous organ works and cantatas) with keys only where they are certain; a
number not listed still gets its group from the BWV ranges below, which follow
the catalogue's own ordering (Schmieder's BWV, 3rd edition numbering).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from models.features.keys import Mode, pitch_class

GROUPS: tuple[str, ...] = (
    "cantata",
    "mass_passion_oratorio",
    "motet",
    "chorale",
    "song",
    "organ",
    "keyboard",
    "lute",
    "chamber",
    "orchestral",
    "canon_late",
    "other",
)
"""The fixed catalogue groups (their order is the one-hot order in the feature matrix)."""

# (first, last, group): BWV ranges in catalogue order.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (1, 224, "cantata"),
    (225, 231, "motet"),
    (232, 249, "mass_passion_oratorio"),
    (250, 438, "chorale"),
    (439, 524, "song"),
    (525, 771, "organ"),
    (772, 994, "keyboard"),
    (995, 1000, "lute"),
    (1001, 1040, "chamber"),
    (1041, 1071, "orchestral"),
    (1072, 1080, "canon_late"),
    (1081, 1089, "other"),
    (1090, 1120, "organ"),  # the Neumeister chorales
    (1121, 1121, "keyboard"),
    (1122, 1126, "chorale"),
    (1127, 1127, "song"),
    (1128, 1128, "organ"),
)

_BWV_KEY = re.compile(r"^(?P<anh>Anh\.\s*)?(?P<num>\d{1,4})(?P<suffix>[a-z]?)$")


@dataclass(frozen=True, slots=True)
class BwvWork:
    """One catalogue entry."""

    bwv: str
    """Normalised: ``"1007"``, ``"243a"``, ``"Anh. 114"``."""
    title: str
    group: str
    key: int | None
    """Pitch class 0-11 of the tonic, None where the work has no single key or we are unsure."""
    mode: Mode | None
    scoring: str


def normalise_bwv(bwv: str) -> str | None:
    """``"bwv 1007"``, ``"1007"``, ``"Anh.114"``, ``"Anh 114"`` -> the catalogue's spelling."""
    text = re.sub(r"^\s*BWV\s*", "", bwv.strip(), flags=re.IGNORECASE)
    text = re.sub(r"^Anh(?:ang)?\.?\s*(?:I{1,3}\s+)?", "Anh. ", text, flags=re.IGNORECASE)
    text = text.strip()
    match = _BWV_KEY.match(text)
    if not match:
        return None
    number = str(int(match["num"]))
    return f"{'Anh. ' if match['anh'] else ''}{number}{match['suffix']}"


def bwv_number(bwv: str) -> int | None:
    """The numeric part of a catalogue number (None for an Anhang number or nonsense)."""
    norm = normalise_bwv(bwv)
    if norm is None or norm.startswith("Anh."):
        return None
    return int(re.sub(r"\D", "", norm))


@cache
def load_catalogue() -> dict[str, BwvWork]:
    """The bundled table, read once per process."""
    text = resources.files("models.features.data").joinpath("bwv.csv").read_text("utf-8")
    works: dict[str, BwvWork] = {}
    for row in csv.DictReader(text.splitlines()):
        mode = row["mode"] or None
        if mode not in (None, "major", "minor"):
            raise ValueError(f"bwv.csv: BWV {row['bwv']} has mode {mode!r}; use major or minor")
        works[row["bwv"]] = BwvWork(
            bwv=row["bwv"],
            title=row["title"],
            group=row["group"],
            key=pitch_class(row["key"]) if row["key"] else None,
            mode=mode,  # type: ignore[arg-type]  # checked just above
            scoring=row["scoring"],
        )
    return works


def lookup(bwv: str) -> BwvWork | None:
    """The listed work, trying ``"988a"`` then ``"988"``; None when not individually listed."""
    norm = normalise_bwv(bwv)
    if norm is None:
        return None
    works = load_catalogue()
    if norm in works:
        return works[norm]
    base = norm.rstrip("abcdefghijklmnopqrstuvwxyz")
    return works.get(base)


def group_of(bwv: str) -> str | None:
    """The catalogue group: the listed work's, else the BWV range's; None for nonsense."""
    work = lookup(bwv)
    if work is not None:
        return work.group
    norm = normalise_bwv(bwv)
    if norm is None:
        return None
    if norm.startswith("Anh."):
        return "other"
    number = bwv_number(norm)
    assert number is not None
    for first, last, group in _RANGES:
        if first <= number <= last:
            return group
    return "other"
