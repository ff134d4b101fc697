from __future__ import annotations

import pytest

from jobs.playlist_plan import (
    PLAYLIST_MARKER,
    Candidate,
    describe,
    explore_slots,
    needs_rewrite,
    pick_to_rate,
    plan_playlist,
    removed_by_user,
    teaching_value,
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


def _pool() -> list[Candidate]:
    """Ten sure tracks (0.9 - i/100, spread 0.01) and two long shots with a wide spread."""
    sure = [C(f"s{i}", 0.9 - i / 100, 0.01) for i in range(10)]
    return [*sure, C("x1", 0.55, 0.25), C("x2", 0.5, 0.3), C("x3", 0.2, 0.01)]


def test_explore_zero_is_the_pure_top_k() -> None:
    pool = _pool()
    pure = plan_playlist(pool, excluded=set(), size=5, min_score=0.5, max_per_work=2)
    assert pure == ["s0", "s1", "s2", "s3", "s4"]
    assert plan_playlist(pool, excluded=set(), size=5, min_score=0.5, max_per_work=2,
                         explore=0.0) == pure  # fmt: skip


@pytest.mark.parametrize(("explore", "slots"), [(0.1, 1), (0.2, 1), (0.3, 1), (0.5, 2)])
def test_explore_gives_its_share_of_slots_to_the_highest_upside(explore: float, slots: int) -> None:
    assert explore_slots(5, explore) == slots
    chosen = plan_playlist(_pool(), excluded=set(), size=5, min_score=0.5, max_per_work=2,
                           explore=explore)  # fmt: skip
    assert chosen[: 5 - slots] == [f"s{i}" for i in range(5 - slots)]
    assert chosen[5 - slots :] == ["x2", "x1"][:slots]  # 0.5 + 2 x 0.3 beats 0.55 + 2 x 0.25
    assert "x3" not in chosen  # no upside, no slot
    assert [explore_slots(50, 0.1), explore_slots(50, 0.0), explore_slots(1, 0.5)] == [5, 0, 0]


def test_explore_respects_exclusions_and_the_work_cap() -> None:
    pool = [C("a", 0.9, 0.0, "1"), C("b", 0.8, 0.0, "2"), C("u", 0.4, 0.4, "1"),
            C("v", 0.3, 0.4, "1"), C("w", 0.3, 0.3, "3")]  # fmt: skip
    chosen = plan_playlist(pool, excluded={"b"}, size=4, min_score=0.5, max_per_work=2,
                           explore=0.5)  # fmt: skip
    assert chosen == ["a", "u", "w"]  # v would be a third of work 1


def test_pick_to_rate_asks_where_the_model_cannot_tell() -> None:
    pool = [C("sure-yes", 0.95, 0.01), C("sure-no", 0.03, 0.01), C("coin", 0.5, 0.05),
            C("split", 0.3, 0.3), C("liked", 0.5, 0.3)]  # fmt: skip
    assert teaching_value(C("coin", 0.5, 0.0)) > teaching_value(C("sure", 0.95, 0.0))
    assert teaching_value(C("a", 0.3, 0.3)) > teaching_value(C("a", 0.3, 0.0))
    assert pick_to_rate(pool, excluded={"liked"}, size=2) == ["split", "coin"]


def test_pick_to_rate_spreads_over_works_and_performers() -> None:
    pool = [C(f"t{i}", 0.5, 0.2 - i / 100, work="1007" if i < 3 else f"w{i}",
              performer="p1" if i >= 3 else None) for i in range(8)]  # fmt: skip
    chosen = pick_to_rate(pool, excluded=set(), size=4)
    assert chosen == ["t0", "t3", "t4"]  # one of work 1007, two of performer p1: all there is
    assert len(pick_to_rate(pool, excluded=set(), size=2)) == 2


def test_pick_to_rate_keeps_waiting_tracks_while_they_stay_useful() -> None:
    pool = [C(f"t{i}", 0.5, 0.3 - i / 100) for i in range(30)]
    first = pick_to_rate(pool, excluded=set(), size=5)
    assert first == ["t0", "t1", "t2", "t3", "t4"]
    answered = {"t1"}
    again = pick_to_rate(pool, excluded=answered, size=5, keep=first[::-1])
    assert again == ["t4", "t3", "t2", "t0", "t5"]  # kept in the listener's order, topped up
    far = pick_to_rate(pool, excluded=set(), size=5, keep=["t29", "t0"])
    assert far[0] == "t0" and "t29" not in far  # no longer among the 10 most useful
