"""Reading what the user typed or exported: track references, ratings, CSV files."""

from __future__ import annotations

import pytest

from jobs.rating_input import (
    ImportRejected,
    RatingLine,
    parse_rating,
    parse_ratings_csv,
    parse_track_ref,
)

ID = "4iV5W9uYEdYUVa79Axb7Rh"
ID2 = "7ouMYWpwJ422jRcDASZB7P"


@pytest.mark.parametrize(
    "text",
    [
        ID,
        f"  {ID}  ",
        f"spotify:track:{ID}",
        f"https://open.spotify.com/track/{ID}",
        f"https://open.spotify.com/track/{ID}?si=1a2b3c4d5e",
        f"https://open.spotify.com/intl-de/track/{ID}?si=x",
        f"http://play.spotify.com/track/{ID}",
    ],
)
def test_track_reference_forms_give_the_id(text: str) -> None:
    assert parse_track_ref(text) == ID


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        f"spotify:album:{ID}",
        f"https://open.spotify.com/album/{ID}",
        f"https://example.com/track/{ID}",
        f"{ID}x",
        "Goldberg Variations",
    ],
)
def test_other_text_is_not_a_track_reference(text: str) -> None:
    with pytest.raises(ValueError, match="is not a track id"):
        parse_track_ref(text)


@pytest.mark.parametrize(("text", "value"), [("8", 8), (" 10 ", 10), ("1", 1), ("7.0", 7)])
def test_rating_is_a_whole_number_from_one_to_ten(text: str, value: int) -> None:
    assert parse_rating(text) == value


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("eight", "not a number"),
        ("", "not a number"),
        ("0", "out of range"),
        ("11", "out of range"),
        ("-3", "out of range"),
        ("7.5", "not a whole number"),
        ("nan", "not a whole number"),
    ],
)
def test_bad_rating_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_rating(text)


def test_csv_with_header_uris_links_and_extra_columns() -> None:
    text = (
        "track,rating,title\n"
        f"spotify:track:{ID},9,Aria\n"
        "\n"
        f"https://open.spotify.com/track/{ID2}?si=abc,3\n"
        f"{ID},9\n"  # same track, same rating: one rating
    )
    assert parse_ratings_csv(text) == [RatingLine(2, ID, 9), RatingLine(4, ID2, 3)]


def test_csv_without_header() -> None:
    assert parse_ratings_csv(f"{ID},8\r\n") == [RatingLine(1, ID, 8)]


def test_csv_lists_every_bad_line_and_nothing_is_returned() -> None:
    text = (
        "track,rating\n"
        f"{ID},8\n"
        "spotify:album:xyz,5\n"  # line 3: unknown id form
        f"{ID2},11\n"  # line 4: out of range
        f"{ID2},great\n"  # line 5: not a number
        f"{ID},4\n"  # line 6: duplicate with a different value
        f"{ID2}\n"  # line 7: one column
        "nonsense,abc\n"  # line 8: both wrong
    )
    with pytest.raises(ImportRejected) as caught:
        parse_ratings_csv(text, source="ratings.csv")
    errors = caught.value.errors
    assert [e.split(":")[0] for e in errors] == [f"line {n}" for n in (3, 4, 5, 6, 7, 8)]
    assert "is not a track id" in errors[0]
    assert "out of range" in errors[1]
    assert "not a number" in errors[2]
    assert "rated 4 here but 8 on line 2" in errors[3]
    assert "two columns" in errors[4]
    assert "is not a track id" in errors[5] and "not a number" in errors[5]
    message = str(caught.value)
    assert message.startswith("ratings.csv: 6 problem(s), nothing was imported")
    assert "line 4: rating 11 is out of range" in message


def test_csv_with_only_a_header_is_rejected() -> None:
    with pytest.raises(ImportRejected, match="no ratings found"):
        parse_ratings_csv("track,rating\n")


A, B = "4uLU6hMCjMI75M1A2tKUQC", "0eGsygTp906u18L0Oimnem"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{A},8\n{B},3\n", [(A, 8), (B, 3)]),
        (f"track;rating\n{A};8\n{B};3\n", [(A, 8), (B, 3)]),
        (f"track\trating\n{A}\t8\n{B}\t3\n", [(A, 8), (B, 3)]),
        (f'{A},8,"Partita; Sarabande"\n{B},3,"Aria; da capo"\n', [(A, 8), (B, 3)]),
        (f"spotify:track:{A};8;Aria, BWV 988\n", [(A, 8)]),
    ],
    ids=["comma", "semicolon", "tab", "comma, titles with semicolons", "semicolon, commas"],
)
def test_columns_may_be_separated_by_comma_semicolon_or_tab(
    text: str, expected: list[tuple[str, int]]
) -> None:
    assert [(ln.track_id, ln.value) for ln in parse_ratings_csv(text)] == expected


def test_a_semicolon_file_with_decimal_commas_names_the_rating_not_the_columns() -> None:
    with pytest.raises(ImportRejected) as caught:
        parse_ratings_csv(f"{A};7,5\n")
    assert caught.value.errors == ["line 1: rating '7,5' is not a number"]


def test_an_unknown_separator_is_named_in_the_error() -> None:
    with pytest.raises(ImportRejected) as caught:
        parse_ratings_csv(f"{A}|8\n{B}|3\n")
    assert "separated by a comma, semicolon or tab" in str(caught.value)
