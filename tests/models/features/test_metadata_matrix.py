"""Metadata encoding and the feature matrix's columns, precedence and missing values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.features.base import TrackForFeatures
from models.features.metadata import (
    METADATA_COLUMNS,
    MetadataProvider,
    describe_track,
    performer_bucket,
)
from models.matrix import FeatureSchema, ProviderRow, build_matrix, feature_schema

BACH = "5aIqB5nVVvmFsvSdExz408"
CELLIST = "cellist00000000000000a"


def cello_prelude(**changes: object) -> TrackForFeatures:
    base = {
        "id": "t1",
        "name": "Cello Suite No. 1 in G Major, BWV 1007: I. Prélude",
        "artists": [{"id": BACH, "name": "Johann Sebastian Bach"}, {"id": CELLIST, "name": "N"}],
        "album_name": "Bach: Cello Suites",
        "album_type": "album",
        "release_date": "1983-05-01",
        "duration_ms": 150_500,
        "track_number": 1,
    }
    base.update(changes)
    return TrackForFeatures(**base)  # type: ignore[arg-type]


def test_metadata_row_encodes_title_catalogue_album_and_performer() -> None:
    row = describe_track(cello_prelude(), composer_ids=frozenset({BACH}))
    assert list(row) == list(METADATA_COLUMNS)
    assert row["duration_s"] == 150.5
    assert row["bwv_number"] == 1007
    assert row["key"] == 7 and row["mode"] == 1
    assert row["movement"] == 1
    assert row["release_year"] == 1983
    assert [k for k, v in row.items() if k.startswith("group.") and v] == ["group.chamber"]
    assert [k for k, v in row.items() if k.startswith("form.") and v] == ["form.prelude"]
    assert row["instr.cello"] == 1
    assert row["album_type.album"] == 1
    performer = [k for k, v in row.items() if k.startswith("performer.") and v]
    assert performer == [f"performer.{performer_bucket(CELLIST):02d}"]


def test_composer_is_not_a_performer_even_under_another_id() -> None:
    track = cello_prelude(artists=[{"id": "otherbachid", "name": "Johann Sebastian Bach"}])
    row = describe_track(track, composer_ids=frozenset({BACH}))
    assert not [k for k, v in row.items() if k.startswith("performer.") and v]


@pytest.mark.parametrize(
    ("name", "album", "key", "mode", "group"),
    [
        # key from the catalogue when the title does not say it
        ("Goldberg Variations, BWV 988: Aria", None, 7, 1, "keyboard"),
        # key from the album name when the track title is only the movement
        ("III. Sarabande", "Suite No. 2 in D minor, BWV 1008", 2, 0, "chamber"),
        # no BWV anywhere: no group, no key
        ("Air", None, None, None, None),
    ],
)
def test_key_and_group_fall_back_to_album_then_catalogue(
    name: str, album: str | None, key: int | None, mode: int | None, group: str | None
) -> None:
    row = describe_track(cello_prelude(name=name, album_name=album), composer_ids=frozenset())
    assert (row["key"], row["mode"]) == (key, mode)
    groups = [k.removeprefix("group.") for k, v in row.items() if k.startswith("group.") and v]
    assert groups == ([group] if group else [])


def test_instruments_fall_back_to_the_catalogue_scoring() -> None:
    track = cello_prelude(name="Suite No. 1, BWV 1007: Prélude", album_name="Bach")
    row = describe_track(track, composer_ids=frozenset())
    assert row["instr.cello"] == 1


def test_metadata_provider_answers_every_track() -> None:
    tracks = [cello_prelude(id="a"), cello_prelude(id="b", name="Something else")]
    result = MetadataProvider(composer_ids=[BACH]).fetch(tracks)
    assert set(result) == {"a", "b"} and all(v is not None for v in result.values())


def test_schema_orders_audio_block_then_metadata_block_then_previews() -> None:
    columns = feature_schema().columns
    assert columns[0] == "audio.duration_ms"
    assert "audio.pitch_0" in columns and "audio.timbre_11" in columns
    assert columns.index("audio.timbre_11") < columns.index("metadata.duration_s")
    last_metadata = columns.index("metadata.album_type.compilation")
    assert columns[last_metadata + 1] == "preview.chroma_0"
    assert columns[-1] == "preview.title_key_agrees"
    assert len(set(columns)) == len(columns)
    assert FeatureSchema.from_dict(feature_schema().to_dict()) == feature_schema()


def col(name: str) -> int:
    return feature_schema().columns.index(name)


def test_spotify_audio_wins_over_reccobeats_and_missing_is_nan() -> None:
    rows: list[ProviderRow] = [
        {"spotify_audio": {"energy": 0.5, "pitch_0": 0.2}, "reccobeats": {"energy": 0.9}},
        {"spotify_audio": None, "reccobeats": {"energy": 0.9, "tempo": 100.0}},
        {"spotify_audio": {"energy": None}, "reccobeats": {"energy": 0.7}},
        {"metadata": {"duration_s": 10.0}},
    ]
    matrix = build_matrix(rows)
    assert matrix.shape == (4, len(feature_schema().columns))
    assert matrix[0, col("audio.energy")] == 0.5
    assert matrix[0, col("audio.pitch_0")] == pytest.approx(0.2)
    assert matrix[1, col("audio.energy")] == 0.9
    assert matrix[1, col("audio.tempo")] == 100.0
    assert math.isnan(matrix[1, col("audio.pitch_0")])
    assert matrix[2, col("audio.energy")] == 0.7
    assert np.isnan(matrix[3, : col("metadata.duration_s")]).all()
    assert matrix[3, col("metadata.duration_s")] == 10.0


def test_empty_input_gives_an_empty_matrix_with_all_columns() -> None:
    assert build_matrix([]).shape == (0, len(feature_schema().columns))
