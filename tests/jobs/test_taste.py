"""The taste in words: the playlist's one line, and the works and performers rated."""

from __future__ import annotations

import pytest

from jobs.playlist_plan import PLAYLIST_MARKER, describe
from jobs.taste import RatedGroup, rated_groups, taste_line

MINOR = {"feature": "mode", "text": "minor key", "effect": 0.3, "versus": "major key"}
SLOW = {"feature": "tempo", "text": "slow tempo", "effect": 0.2, "versus": "fast tempo"}
CHOIR = {"feature": "instrument.choir", "text": "choir", "effect": -0.25, "versus": None}
HARPSICHORD = {"feature": "instrument.harpsichord", "text": "harpsichord", "effect": 0.1}


@pytest.mark.parametrize(
    ("features", "line"),
    [
        ([MINOR, CHOIR, SLOW], "Your taste so far: minor key, slow tempo; less: choir."),
        ([MINOR, SLOW, HARPSICHORD, {**SLOW, "text": "x"}], "Your taste so far: minor key, "
         "slow tempo, harpsichord."),
        ([CHOIR], "Your taste so far: less: choir."),
        ([], None),
    ],
)  # fmt: skip
def test_taste_line_names_what_raises_and_lowers_the_chance(
    features: list[dict[str, object]], line: str | None
) -> None:
    assert taste_line(features) == line


def test_description_keeps_the_marker_and_spotifys_300_characters() -> None:
    line = "Your taste so far: minor key, slow tempo; less: choir."
    text = describe(built_at="2026-11-29 04:00 UTC", model_version="m" * 40, count=50, taste=line)
    assert text.startswith(PLAYLIST_MARKER) and text.endswith(line) and len(text) <= 300
    long = describe(built_at="x", model_version="m" * 40, count=50, taste="Q" * 200)
    assert "Q" not in long and len(long) <= 300  # left out whole, never cut mid-word


def test_works_and_performers_loved_and_not_from_the_ratings() -> None:
    rated = [
        (True, ["BWV 988"]), (True, ["BWV 988"]), (False, ["BWV 988"]),
        (False, ["BWV 147"]), (True, ["BWV 147"]), (False, ["BWV 147"]),
        (True, ["BWV 1007"]), (True, []), (False, ["BWV 232"]), (True, ["BWV 232"]),
    ]  # fmt: skip
    loved, unloved = rated_groups(rated)
    assert loved == (RatedGroup("BWV 988", 2, 1), RatedGroup("BWV 1007", 1, 0))
    assert unloved == (RatedGroup("BWV 147", 1, 2),)  # BWV 232: one each, neither
