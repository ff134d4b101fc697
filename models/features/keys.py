"""Musical keys as Spotify numbers them: pitch class 0-11 (C=0) and mode (1 major, 0 minor).

One vocabulary for the catalogue, the title parser, the demo catalogue and the
audio descriptors, so a key read from "fis-Moll" and one from Spotify compare.
"""

from __future__ import annotations

from typing import Literal

Mode = Literal["major", "minor"]

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_NAMES = ("C", "C-sharp", "D", "E-flat", "E", "F", "F-sharp", "G", "A-flat", "A", "B-flat", "B")


def pitch_class(name: str) -> int | None:
    """``"Eb"``, ``"E-flat"``, ``"F#"``, ``"F sharp"``, ``"C"`` -> 0-11; None if not a key name."""
    text = name.strip().replace("♭", "b").replace("♯", "#")
    if not text or text[0].upper() not in _LETTER_PC:
        return None
    pc = _LETTER_PC[text[0].upper()]
    rest = text[1:].strip(" -").lower()
    if rest in {"", "natural"}:
        return pc
    if rest in {"b", "flat"}:
        return (pc - 1) % 12
    if rest in {"#", "sharp"}:
        return (pc + 1) % 12
    return None


def key_name(pc: int) -> str:
    """0-11 -> the usual English name of that key's tonic (flats for black keys but F-sharp)."""
    return _NAMES[pc % 12]


def key_label(pc: int | None, mode: Mode | None) -> str:
    """``(2, "minor")`` -> ``"D minor"``; empty when the key is unknown."""
    if pc is None:
        return ""
    return f"{key_name(pc)} {mode}" if mode else key_name(pc)


def mode_number(mode: Mode | None) -> int | None:
    """Spotify's encoding: 1 major, 0 minor."""
    if mode is None:
        return None
    return 1 if mode == "major" else 0
