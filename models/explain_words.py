"""Feature groups a person can read, and the words for them ("slow tempo", "harpsichord").

The feature matrix has ~140 columns (``audio.tempo``, ``metadata.instr.harpsichord``,
16 hashed performer buckets, 24 pitch and timbre means, ...).  An explanation
talks about *groups* of them: columns with the same meaning from different
providers (``audio.mode`` and ``metadata.mode``) are one group, the performer
buckets are one ("performer you liked: X"), each instrument, form and
catalogue group is its own.  A column this module has no words for (a new
provider's) still forms a group and reads "higher/lower <name> than usual",
so a new provider never breaks an explanation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.features.keys import key_name

Array = NDArray[np.float64]

SCALARS: dict[str, tuple[str, str, str | None]] = {
    "tempo": ("slow tempo", "fast tempo", "{:.0f} BPM"),
    "energy": ("calm, low energy", "high energy", None),
    "valence": ("sombre mood", "bright mood", None),
    "danceability": ("little regular pulse", "strong regular pulse", None),
    "acousticness": ("less acoustic sound", "acoustic sound", None),
    "loudness": ("quiet recording", "loud recording", "{:.0f} dB"),
    "instrumentalness": ("with voices", "instrumental", None),
    "liveness": ("studio sound", "sounds live", None),
    "speechiness": ("no speech", "speech-like", None),
    "duration": ("short", "long", "{:.0f} min"),
    "release_year": ("older release", "recent release", "{:.0f}"),
    "movement": ("early movement", "later movement", "movement {:.0f}"),
    "track_number": ("early on its album", "late on its album", "track {:.0f}"),
    "time_signature": ("fewer beats to the bar", "more beats to the bar", "{:.0f}/4"),
    "centroid_hz": ("dark, mellow sound", "bright sound", "{:.0f} Hz"),
    "bandwidth_hz": ("narrow sound", "full, wide sound", None),
    "flatness": ("clear, tonal sound", "noisy sound", None),
    "onset_rate": ("few notes per second", "many notes per second", "{:.1f} notes/s"),
    "key_strength": ("wandering harmony", "firmly in its key", None),
    "deezer_gain": ("loud master", "quiet master", None),
    "title_key_agrees": (
        "plays in another key than its title says",
        "plays in the key its title says",
        None,
    ),
}
"""Scalar feature -> (word below the average candidate, word above, value format)."""

FLAG_WORDS: dict[str, str] = {
    "group.cantata": "a cantata",
    "group.mass_passion_oratorio": "a mass, passion or oratorio",
    "group.motet": "a motet",
    "group.chorale": "a chorale",
    "group.song": "a song",
    "group.organ": "an organ work",
    "group.keyboard": "a keyboard work",
    "group.lute": "a lute work",
    "group.chamber": "chamber music",
    "group.orchestral": "an orchestral work",
    "group.canon_late": "a canon or late work",
    "group.other": "a work outside the main groups",
    "form.slow_tempo": "marked slow (Adagio, Largo ...)",
    "form.fast_tempo": "marked fast (Allegro, Presto ...)",
    "form.mass_movement": "a mass movement",
}
GROUPED_PREFIXES = {"performer.": "performer", "album_type.": "album_type"}
PROFILES = {
    "pitch_": ("pitch", "its pitch profile"),
    "chroma_": ("pitch", "its pitch profile"),
    "timbre_": ("timbre", "its tone colour"),
    "mfcc_": ("timbre", "its tone colour"),
}
"""Spotify's segment pitches and the preview's chroma (means and spreads) are one
profile, its timbre and the preview's MFCCs another: 24-48 numbers a listener
reads as one thing."""
RENAMED = {
    "duration_ms": "duration",
    "duration_s": "duration",
    "bwv_number": "work",
    "deezer_bpm": "tempo",
    "rms_db": "loudness",
}
"""Columns with the meaning of another provider's: the preview's RMS level is a
loudness in dB, Deezer's BPM a tempo."""


@dataclass(frozen=True)
class FeatureGroup:
    """Matrix columns read as one feature (``name`` is what ``--json`` calls it)."""

    name: str
    kind: str
    """``scalar``, ``flag``, ``mode``, ``key``, ``performer``, ``work``, ``profile``,
    ``album_type`` or ``other`` (a column without words here)."""
    columns: tuple[int, ...]
    labels: tuple[str, ...]
    """The columns' names without their block (``instr.harpsichord``, ``duration_ms``)."""


def _topic(label: str) -> tuple[str, str]:
    """(group name, kind) of one column label (the column name without its block)."""
    label = RENAMED.get(label, label)
    for prefix, name in GROUPED_PREFIXES.items():
        if label.startswith(prefix):
            return name, name
    for prefix, (name, _) in PROFILES.items():
        if label.startswith(prefix):
            return name, "profile"
    if label.startswith("instr."):
        return "instrument." + label.removeprefix("instr."), "flag"
    if label.startswith(("form.", "group.")):
        return label, "flag"
    if label in ("mode", "key", "work"):
        return label, label
    if label in SCALARS:
        return label, "scalar"
    return label, "other"


def feature_groups(columns: Sequence[str]) -> tuple[FeatureGroup, ...]:
    """The readable groups of a matrix's columns, in first-column order."""
    members: dict[str, tuple[str, list[int], list[str]]] = {}
    for j, column in enumerate(columns):
        label = column.split(".", 1)[1] if "." in column else column
        name, kind = _topic(label)
        entry = members.setdefault(name, (kind, [], []))
        entry[1].append(j)
        entry[2].append(label)
    return tuple(
        FeatureGroup(name, kind, tuple(cols), tuple(labels))
        for name, (kind, cols, labels) in members.items()
    )


@dataclass(frozen=True)
class RatedTracks:
    """What the listener rated, as the neighbours and the worded reasons need it."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    ratings: Array
    X: Array
    loved: NDArray[np.bool_]
    works: tuple[str | None, ...]
    """Each rated track's work (BWV without movement), for "same work as ..."."""
    performers: tuple[frozenset[str], ...]
    """Each rated track's performer ids."""


@dataclass(frozen=True)
class TrackFacts:
    """What the wording needs to know of one candidate besides its features."""

    work: str | None
    bwv: str | None
    performers: Mapping[str, str]
    """Performer id -> name (the composer left out)."""


@dataclass(frozen=True)
class Context:
    row: Array
    reference: Array
    facts: TrackFacts
    rated: RatedTracks


def _shown(label: str, v: float) -> float:
    """A column's value as the words show it (durations in minutes)."""
    if label == "duration_ms":
        return v / 60000.0
    return v / 60.0 if label == "duration_s" else v


def _value(group: FeatureGroup, values: Array) -> float:
    """The group's value (the first known column)."""
    for j, label in zip(group.columns, group.labels, strict=True):
        if not math.isnan(float(values[j])):
            return _shown(label, float(values[j]))
    return math.nan


def _values(group: FeatureGroup, row: Array, reference: Array) -> tuple[float, float]:
    """(track's value, reference's) from the first column both know.

    A group's columns come from different providers with different scales
    (Spotify's loudness and the preview's RMS level): comparing the track's
    preview level with the reference's Spotify loudness would pick the wrong
    side.  Without a shared column: the track's first known value and NaN.
    """
    for j, label in zip(group.columns, group.labels, strict=True):
        v, r = float(row[j]), float(reference[j])
        if not math.isnan(v) and not math.isnan(r):
            return _shown(label, v), _shown(label, r)
    return _value(group, row), math.nan


def flag_word(group: FeatureGroup) -> str:
    name = group.name
    if name in FLAG_WORDS:
        return FLAG_WORDS[name]
    if name.startswith("instrument."):
        return name.removeprefix("instrument.").replace("_", " ")
    word = name.split(".", 1)[1].replace("_", " ")
    return f"a {word}"


def absent_word(group: FeatureGroup) -> str:
    """A flag the track lacks: "no harpsichord", "not a cantata"."""
    prefix = "no " if group.name.startswith("instrument.") else "not "
    return prefix + flag_word(group)


def side_word(group: FeatureGroup, high: bool, value: float | None = None) -> str:
    """The words for a scalar or mode group's value below/above the average candidate."""
    if group.kind == "mode":
        return "major key" if high else "minor key"
    low_word, high_word, fmt = SCALARS.get(
        group.name, (f"lower {group.name}", f"higher {group.name}", None)
    )
    word = high_word if high else low_word
    if value is None or math.isnan(value):
        return word
    shown = fmt.format(value) if fmt else None
    return f"{word} ({shown})" if shown else word


def _performer_text(effect: float, ctx: Context) -> str:
    """Names only the performers the listener's ratings back the direction with."""
    performers = ctx.facts.performers
    wanted = effect > 0
    backed = [
        name
        for pid, name in performers.items()
        if any(
            pid in rated and bool(loved) is wanted
            for rated, loved in zip(ctx.rated.performers, ctx.rated.loved, strict=True)
        )
    ]
    if backed:
        said = "performer you liked" if wanted else "performer you did not love"
        return f"{said}: {', '.join(backed)}"
    return f"performer: {', '.join(performers.values()) or 'its performers'}"


def _work_text(effect: float, ctx: Context) -> str:
    bwv = f"BWV {ctx.facts.bwv or ctx.facts.work}"
    same = [i for i, w in enumerate(ctx.rated.works) if w is not None and w == ctx.facts.work]
    if effect > 0 and any(ctx.rated.loved[i] for i in same):
        return f"same work as a recording you loved: {bwv}"
    if effect < 0 and any(not ctx.rated.loved[i] for i in same):
        return f"same work as a recording you did not love: {bwv}"
    return f"its place in the catalogue: {bwv}"


def word_reason(group: FeatureGroup, effect: float, ctx: Context) -> str:
    """One reason as a listener reads it; ``effect`` > 0 means it raised the score."""
    value, ref = _values(group, ctx.row, ctx.reference)
    if group.kind == "flag":
        return flag_word(group) if value >= 0.5 else absent_word(group)
    if group.kind == "mode":
        return side_word(group, value >= 0.5)
    if group.kind == "key":
        return f"key of {key_name(int(value))}" if not math.isnan(value) else "its key"
    if group.kind == "performer":
        return _performer_text(effect, ctx)
    if group.kind == "work":
        return _work_text(effect, ctx) if ctx.facts.work else "no catalogue number"
    if group.kind == "profile":
        return dict(PROFILES.values())[group.name]
    if group.kind == "album_type":
        picked = [
            label.split(".", 1)[1]
            for j, label in zip(group.columns, group.labels, strict=True)
            if ctx.row[j] >= 0.5
        ]
        return (
            f"on {'an' if picked[:1] == ['album'] else 'a'} {picked[0]}"
            if picked
            else ("album type unknown")
        )
    high = math.isnan(ref) or value >= ref
    return side_word(group, high, value)
