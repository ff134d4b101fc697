"""Model artifacts on disk and the rule that decides which one is in use.

Each model is two files in ``settings.models_dir``: ``<version>.joblib`` (the
fitted :class:`~models.pipeline.TasteModel` or cold-start model) and
``<version>.json`` (what it is: versions, feature schema, data fingerprint,
metrics, chosen params and the artifact's sha256).  Loading re-checks all of it,
because unpickling a model built by another scikit-learn, or on other columns,
silently gives wrong scores; a mismatch raises :class:`ArtifactRefused` and the
daemon retrains instead.

Errors (branch of ``service.errors.BachbotError``)::

    ModelError
    ├── NotEnoughData       too few ratings for the nested cross-validation
    └── ArtifactRefused     missing / tampered / incompatible artifact

Promotion rule (:func:`decide_promotion`, pure): a new model is promoted only
when its nested R2 is at least the current model's *on the same data and the
same outer folds*.  When the training data changed since the current model was
evaluated, the caller first re-scores the current model's configuration on the
new data's outer folds (``models.evaluate.evaluate_fixed``) and passes that
score.  Ties promote the new model: same quality, more recent ratings.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from numpy.typing import NDArray

from service.errors import BachbotError

ARTIFACT_FORMAT = 1
"""Bumped when the pickled classes change shape; older artifacts are refused."""


class ModelError(BachbotError):
    """The taste model cannot be trained, loaded or used."""


class NotEnoughData(ModelError):
    """Too few ratings (or rows) to train or evaluate honestly."""


class ArtifactRefused(ModelError):
    """A saved model failed its integrity or compatibility checks."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


def bachbot_version() -> str:
    try:
        return metadata.version("bachbot")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def fingerprint(X: NDArray[Any], y: NDArray[Any]) -> str:
    """sha256 of the training matrix and ratings (NaN-stable, shape-aware)."""
    digest = hashlib.sha256()
    Xa = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    ya = np.ascontiguousarray(np.asarray(y, dtype=np.float64))
    digest.update(repr((Xa.shape, ya.shape)).encode())
    digest.update(Xa.tobytes())
    digest.update(ya.tobytes())
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def runtime_versions() -> dict[str, str]:
    return {
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "bachbot": bachbot_version(),
        "artifact_format": str(ARTIFACT_FORMAT),
    }


@dataclass(frozen=True)
class SavedModel:
    """Where an artifact went and its metadata (also written as JSON beside it)."""

    version: str
    path: Path
    sha256: str
    meta: dict[str, Any]


def new_version(kind: str, data_fingerprint: str, *, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{kind}-{data_fingerprint[:8]}"


def save_model(
    model: Any,
    *,
    models_dir: Path,
    kind: str,
    schema_version: str,
    columns: tuple[str, ...],
    data_fingerprint: str,
    metrics: dict[str, Any],
    params: dict[str, Any],
    n_ratings: int,
    now: datetime | None = None,
) -> SavedModel:
    """Write ``<version>.joblib`` and ``<version>.json``; return the sha256 to record."""
    created = now or datetime.now(UTC)
    version = new_version(kind, data_fingerprint, now=created)
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{version}.joblib"
    joblib.dump(model, path)
    digest = sha256_file(path)
    meta = {
        "version": version,
        "kind": kind,
        "created": created.isoformat(),
        "versions": runtime_versions(),
        "feature_schema": {"version": schema_version, "columns": list(columns)},
        "data_fingerprint": data_fingerprint,
        "n_ratings": n_ratings,
        "metrics": metrics,
        "params": params,
        "sha256": digest,
    }
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2, default=str))
    return SavedModel(version=version, path=path, sha256=digest, meta=meta)


def compatibility_problems(
    meta: dict[str, Any], *, schema_version: str, columns: tuple[str, ...]
) -> list[str]:
    """Why an artifact with this metadata cannot be used here (empty: it can)."""
    problems = []
    versions = meta.get("versions", {})
    if versions.get("artifact_format") != str(ARTIFACT_FORMAT):
        problems.append(f"artifact format {versions.get('artifact_format')} != {ARTIFACT_FORMAT}")
    if versions.get("sklearn") != sklearn.__version__:
        problems.append(
            f"built with scikit-learn {versions.get('sklearn')}, running {sklearn.__version__}"
        )
    numpy_major = np.__version__.split(".")[0]
    if str(versions.get("numpy", "")).split(".")[0] != numpy_major:
        problems.append(f"built with numpy {versions.get('numpy')}, running {np.__version__}")
    schema = meta.get("feature_schema", {})
    if schema.get("version") != schema_version:
        problems.append(
            f"feature schema {schema.get('version')!r}, the matrix is now {schema_version!r}"
        )
    elif tuple(schema.get("columns", ())) != tuple(columns):
        problems.append("feature columns differ from the current feature schema")
    return problems


def load_model(
    path: Path,
    *,
    schema_version: str,
    columns: tuple[str, ...],
    expected_sha256: str | None = None,
) -> Any:
    """Load an artifact after checking its checksum, schema and library versions.

    ``expected_sha256`` is the value recorded in the database; the JSON beside
    the file is checked too, so editing both the file and its JSON is still
    caught by the database record.
    """
    meta_path = path.with_suffix(".json")
    if not path.exists() or not meta_path.exists():
        raise ArtifactRefused(
            f"model artifact {path} or its metadata is missing; bachbot will retrain "
            "(or run `bachbot train`)",
            path=path,
        )
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ArtifactRefused(
            f"model metadata {meta_path} is unreadable ({err}); run `bachbot train`", path=path
        ) from err
    digest = sha256_file(path)
    for label, expected in (("metadata", meta.get("sha256")), ("database", expected_sha256)):
        if expected is not None and expected != digest:
            raise ArtifactRefused(
                f"model artifact {path.name} does not match its sha256 in the {label} "
                "(the file changed after it was saved); refusing to load it, run "
                "`bachbot train` to build a fresh model",
                path=path,
            )
    problems = compatibility_problems(meta, schema_version=schema_version, columns=columns)
    if problems:
        raise ArtifactRefused(
            f"model artifact {path.name} is incompatible: {'; '.join(problems)}; "
            "run `bachbot train` to rebuild it for this installation",
            path=path,
        )
    try:
        return joblib.load(path)
    except Exception as err:  # unpickling can raise nearly anything
        raise ArtifactRefused(
            f"model artifact {path.name} could not be unpickled ({err}); run `bachbot train`",
            path=path,
        ) from err


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    new_score: float | None
    current_score: float | None

    def as_text(self) -> str:
        def fmt(value: float | None) -> str:
            return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"

        verdict = "promoted" if self.promote else "not promoted"
        return (
            f"{verdict}: {self.reason} (new nested R2 {fmt(self.new_score)}, "
            f"current {fmt(self.current_score)})"
        )


@dataclass(frozen=True)
class Incumbent:
    """The currently promoted model as the gate sees it."""

    kind: str
    score_same_data: float | None
    """Its nested score on the new data's outer folds (None: could not be computed)."""


def decide_promotion(
    *, new_kind: str, new_score: float, current: Incumbent | None, tolerance: float = 1e-9
) -> PromotionDecision:
    """Promote when the new nested R2 >= the current one's on the same folds.

    A trained model always replaces the cold-start fallback; a cold-start
    candidate never replaces a trained model; an undefined new score (NaN) is
    never promoted over a defined one.
    """
    new = None if math.isnan(new_score) else new_score
    if current is None:
        return PromotionDecision(True, "no model in use yet", new, None)
    cur = current.score_same_data
    if current.kind == "coldstart" and new_kind != "coldstart":
        return PromotionDecision(True, "first trained model replaces the cold-start", new, cur)
    if new_kind == "coldstart" and current.kind != "coldstart":
        return PromotionDecision(False, "cold-start never replaces a trained model", new, cur)
    if new_kind == "coldstart":
        return PromotionDecision(True, "cold-start refreshed with the latest ratings", new, cur)
    if cur is None or math.isnan(cur):
        if new is None:
            return PromotionDecision(False, "new model has no defined score", new, None)
        return PromotionDecision(True, "current model has no score on this data", new, None)
    if new is None:
        return PromotionDecision(False, "new model has no defined score", new, cur)
    if new + tolerance >= cur:
        reason = (
            "tie on the same folds" if abs(new - cur) <= tolerance else "better on the same folds"
        )
        return PromotionDecision(True, reason, new, cur)
    return PromotionDecision(False, "worse on the same folds; keeping the current model", new, cur)
