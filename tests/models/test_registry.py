"""Artifacts: round trip, refusals on tampering or incompatibility."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from models.coldstart import ColdStartClassifier
from models.errors import ArtifactRefused
from models.pipeline import TasteModel
from models.registry import fingerprint, load_model, save_model, sha256_file

COLUMNS = ("audio.valence", "audio.mode")
SCHEMA = "1-abc"


def saved_model_for_comparison() -> TasteModel:
    final = ColdStartClassifier().fit(
        np.array([[0.1, 0.0], [0.9, 1.0], [0.5, 1.0]]), np.array([0, 1, 0])
    )
    return TasteModel("coldstart", "coldstart", {"family": "coldstart"}, final, COLUMNS)


def saved(tmp_path: Path) -> Path:
    model = saved_model_for_comparison()
    return save_model(
        model,
        models_dir=tmp_path,
        kind="coldstart",
        schema_version=SCHEMA,
        columns=COLUMNS,
        data_fingerprint="f" * 64,
        metrics={"r2": 0.5},
        params={},
        n_ratings=3,
    ).path


def test_saved_model_loads_and_predicts_the_same(tmp_path: Path) -> None:
    path = saved(tmp_path)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert {"created", "versions", "feature_schema", "data_fingerprint", "sha256"} <= set(meta)
    model = load_model(path, schema_version=SCHEMA, columns=COLUMNS, expected_sha256=meta["sha256"])
    probe = np.array([[0.9, 1.0], [0.1, 0.0]])
    scores, _ = model.predict_with_uncertainty(probe)
    original = saved_model_for_comparison()
    np.testing.assert_allclose(scores, original.predict_with_uncertainty(probe)[0])
    assert scores[0] > scores[1]


def tamper_bytes(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\0")


def edit_meta(key: str, value: object) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        meta_path = path.with_suffix(".json")
        meta = json.loads(meta_path.read_text())
        section, _, field = key.partition(".")
        if field:
            meta[section][field] = value
        else:
            meta[section] = value
        meta_path.write_text(json.dumps(meta))

    return edit


@pytest.mark.parametrize(
    ("damage", "schema", "columns", "message"),
    [
        (tamper_bytes, SCHEMA, COLUMNS, "does not match its sha256"),
        (None, "2-def", COLUMNS, "feature schema"),
        (None, SCHEMA, ("audio.valence",), "feature columns differ"),
        (edit_meta("versions.sklearn", "0.24.2"), SCHEMA, COLUMNS, "scikit-learn 0.24.2"),
        (edit_meta("versions.artifact_format", "0"), SCHEMA, COLUMNS, "artifact format"),
        (lambda p: p.unlink(), SCHEMA, COLUMNS, "missing"),
    ],
)
def test_load_refuses_tampered_or_incompatible_artifacts(
    tmp_path: Path,
    damage: Callable[[Path], object] | None,
    schema: str,
    columns: tuple[str, ...],
    message: str,
) -> None:
    path = saved(tmp_path)
    if damage is not None:
        damage(path)
    with pytest.raises(ArtifactRefused, match=message) as info:
        load_model(path, schema_version=schema, columns=columns)
    assert "bachbot train" in str(info.value)


def test_load_refuses_a_file_whose_metadata_was_rewritten_to_match(tmp_path: Path) -> None:
    path = saved(tmp_path)
    recorded = json.loads(path.with_suffix(".json").read_text())["sha256"]
    tamper_bytes(path)
    edit_meta("sha256", sha256_file(path))(path)
    with pytest.raises(ArtifactRefused, match="in the database"):
        load_model(path, schema_version=SCHEMA, columns=COLUMNS, expected_sha256=recorded)


def test_fingerprint_changes_with_one_rating_and_ignores_nothing() -> None:
    X = np.array([[1.0, np.nan], [2.0, 3.0]])
    y = np.array([5.0, 6.0])
    assert fingerprint(X, y) == fingerprint(X.copy(), y.copy())
    assert fingerprint(X, y) != fingerprint(X, np.array([5.0, 7.0]))
