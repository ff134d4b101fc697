"""Segment means and the audio row, checked against hand-computed values."""

from __future__ import annotations

from typing import Any

import pytest

from models.features.spotify_audio import AUDIO_FEATURE_COLUMNS, describe, segment_means


def segment(pitches: list[float], timbre: list[float]) -> dict[str, Any]:
    return {"start": 0.0, "duration": 1.0, "pitches": pitches, "timbre": timbre}


SEGMENTS = [
    segment([1.0] + [0.0] * 11, [40.0] + [0.0] * 11),
    segment([0.5] + [1.0] * 11, [50.0] + [10.0] * 11),
    segment([0.0] + [0.5] * 11, [60.0] + [-4.0] * 11),
]


def test_segment_means_are_plain_means_over_segments() -> None:
    means = segment_means(SEGMENTS)
    assert means is not None
    pitches, timbre = means
    # pitch 0: (1 + 0.5 + 0) / 3; the others: (0 + 1 + 0.5) / 3
    assert pitches == pytest.approx([0.5] + [0.5] * 11)
    # timbre 0: (40 + 50 + 60) / 3; the others: (0 + 10 - 4) / 3
    assert timbre == pytest.approx([50.0] + [2.0] * 11)


def test_malformed_segments_are_left_out_of_the_means() -> None:
    means = segment_means([*SEGMENTS[:1], {"pitches": [1.0], "timbre": [2.0]}])
    assert means is not None
    assert means[0][0] == pytest.approx(1.0)


def test_no_segments_means_no_pitch_or_timbre() -> None:
    row = describe({"energy": 0.3, "tempo": 90}, {"segments": []})
    assert row is not None
    assert row["energy"] == 0.3
    assert row["pitch_0"] is None and row["timbre_11"] is None


def test_a_track_spotify_knows_nothing_about_is_none() -> None:
    assert describe(None, None) is None


def test_row_has_every_column_and_converts_numbers() -> None:
    row = describe({"energy": 0.3, "key": 7, "mode": True}, {"segments": SEGMENTS})
    assert row is not None
    assert set(AUDIO_FEATURE_COLUMNS) <= set(row)
    assert row["key"] == 7.0
    assert row["mode"] is None  # a bool is not a number Spotify sends
    assert row["timbre_0"] == pytest.approx(50.0)
