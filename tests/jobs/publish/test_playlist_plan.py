from __future__ import annotations

import pytest

from jobs.playlist_plan import (
    PLAYLIST_MARKER,
    Candidate,
    describe,
    needs_rewrite,
    plan_playlist,
    removed_by_user,
    work_key,
)

C = Candidate


@pytest.mark.parametrize(
    ("candidates", "excluded", "size", "min_score", "max_per_work", "expected"),
    [
        ([C("a", 9), C("b", 8), C("c", 7)], set(), 2, 0, 2, ["a", "b"]),
        ([C("a", 9), C("b", 8), C("c", 7)], {"a"}, 2, 0, 2, ["b", "c"]),
        ([C("a", 9), C("b", 5), C("c", 7)], set(), 5, 6, 2, ["a", "c"]),
        (
            [C("a", 9, work="1007"), C("b", 8.5, work="1007"), C("c", 8, work="1007"), C("d", 7)],
            set(),
            5,
            0,
            2,
            ["a", "b", "d"],
        ),
        ([C("b", 8, 0.5), C("a", 8, 0.1), C("c", 8, None)], set(), 3, 0, 2, ["a", "b", "c"]),
        ([], set(), 3, 0, 2, []),
        ([C("a", 9), C("a", 9)], set(), 3, 0, 2, ["a"]),
    ],
    ids=["top-n", "excludes-rated", "threshold", "cap-per-work", "tie-break", "empty", "dedup"],
)
def test_plan_playlist(
    candidates: list[Candidate],
    excluded: set[str],
    size: int,
    min_score: float,
    max_per_work: int,
    expected: list[str],
) -> None:
    assert (
        plan_playlist(
            candidates,
            excluded=excluded,
            size=size,
            min_score=min_score,
            max_per_work=max_per_work,
        )
        == expected
    )


@pytest.mark.parametrize(
    ("published", "current", "liked", "expected"),
    [
        (["a", "b", "c"], ["a", "c"], set(), ["b"]),
        (["a", "b"], ["a", "b", "x"], set(), []),
        (["a", "b"], [], {"a"}, ["b"]),
        ([], ["a"], set(), []),
    ],
    ids=[
        "one-removed",
        "user-added-one",
        "liked-then-removed-is-not-a-dislike",
        "nothing-published",
    ],
)
def test_removed_by_user(
    published: list[str], current: list[str], liked: set[str], expected: list[str]
) -> None:
    assert removed_by_user(published=published, current=current, liked=liked) == expected


@pytest.mark.parametrize(
    ("bwv", "expected"),
    [
        ("1007", "1007"),
        ("1007/1", "1007"),
        ("1007:3", "1007"),
        ("988a", "988a"),
        ("Anh. 114", "Anh. 114"),
        (None, None),
        ("", None),
    ],
)
def test_work_key(bwv: str | None, expected: str | None) -> None:
    assert work_key(bwv) == expected


def test_rewrite_only_when_order_or_items_change() -> None:
    assert not needs_rewrite(planned=["a", "b"], current=["a", "b"])
    assert needs_rewrite(planned=["b", "a"], current=["a", "b"])
    assert needs_rewrite(planned=["a"], current=["a", "b"])


def test_description_carries_marker_model_and_time() -> None:
    text = describe(built_at="2026-11-25 12:00 UTC", model_version="m-3", count=4)
    assert text.startswith(PLAYLIST_MARKER)
    assert "m-3" in text and "2026-11-25" in text
    assert len(text) <= 300
