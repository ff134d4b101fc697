"""Model artifacts on disk: saved with what they are, refused when they do not fit.

Each model is two private files (:mod:`models.private_files`) in
``settings.models_dir``: ``<version>.joblib`` (the
fitted :class:`~models.pipeline.TasteModel`) and
``<version>.json`` (what it is: versions, feature schema, data fingerprint,
metrics, chosen params and the artifact's sha256).  Loading re-checks all of it,
because unpickling a model built by another scikit-learn, or on other columns,
silently gives wrong scores; a mismatch raises :class:`ArtifactRefused` and the
daemon retrains instead.

Errors are :mod:`models.errors`' (``ArtifactRefused``).  Which model is in use
is decided by the promotion gate, :mod:`models.gate`.
"""

from __future__ import annotations

import hashlib
import json
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

from models.errors import ArtifactRefused
from models.private_files import private_dir, private_file, write_private_text

ARTIFACT_FORMAT = 2
"""Bumped when the pickled classes change shape; older artifacts are refused.
2: the classifier (probability of love) replaced the 1-10 regressor."""


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
    private_dir(models_dir)
    path = models_dir / f"{version}.joblib"
    with private_file(path) as handle:
        joblib.dump(model, handle)
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
    write_private_text(path.with_suffix(".json"), json.dumps(meta, indent=2, default=str))
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
