"""What counts as a Bach recording, and what its title says."""

from __future__ import annotations

import pytest

from models.bach import BachRules, title_metadata
from tests.jobs.sync.conftest import BACH

RULES = BachRules.of([BACH], [r"\bBWV\b"])


@pytest.mark.parametrize(
    ("artists", "title", "expected"),
    [
        ([BACH, "performer"], "Aria", True),
        (["performer", BACH], "Aria", True),
        (["performer"], "Goldberg Variations, BWV 988: Aria", True),
        (["performer"], "Goldberg Variations, bwv 988: Aria", True),
        (["performer"], "So What", False),
        ([None, "performer"], "Air", False),
        ([], "BWVX remix", False),
    ],
)
def test_track_is_bach_by_composer_id_or_title_rule(
    artists: list[str | None], title: str, expected: bool
) -> None:
    assert RULES.matches(artist_ids=artists, title=title) is expected


def test_other_composer_rules_follow_the_settings() -> None:
    rules = BachRules.of(["handel-id"], [r"\bHWV\b"])
    assert rules.matches(artist_ids=["handel-id"], title="Water Music")
    assert rules.matches(artist_ids=[], title="Messiah, HWV 56: Hallelujah")
    assert not rules.matches(artist_ids=[BACH], title="Cello Suite, BWV 1007")


def test_title_metadata_has_bwv_key_mode_and_form() -> None:
    bwv, meta = title_metadata("Cello Suite No. 1 in G Major, BWV 1007: I. Prélude")
    assert bwv == "1007"
    assert meta["key"] == 7 and meta["mode"] == "major"
    assert meta["movement_form"] == "prelude"
