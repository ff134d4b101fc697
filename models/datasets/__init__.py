"""Bundled example tables and the reader ``bachbot evaluate --dataset`` uses.

``seed_like.csv`` is SYNTHETIC (see ``make_seed_like.py``): 100 made-up tracks
with the seed's 35 Spotify descriptors and a 1-10 ``rating``, so the pipeline
can be tried and tested with no account and no one's real ratings.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from service.errors import ConfigError

SEED_LIKE_CSV = Path(__file__).with_name("seed_like.csv")
MISSING = {"", "na", "nan", "null", "none", "?"}


@dataclass
class Table:
    """Numeric features and a target read from a CSV, plus what was left out and why."""

    X: NDArray[np.float64]
    y: NDArray[np.float64]
    columns: tuple[str, ...]
    target: str
    notes: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _number(text: str) -> float | None:
    """The cell as a float, NaN when missing, None when it is not a number."""
    value = text.strip()
    if value.lower() in MISSING:
        return math.nan
    if value.lower() in {"true", "false"}:
        return float(value.lower() == "true")
    try:
        return float(value)
    except ValueError:
        return None


def read_table(path: Path, *, target: str, features: Sequence[str] | None = None) -> Table:
    """Read a CSV (lines starting with ``#`` are comments) into X, y.

    Without ``features`` every numeric column but the target is used and the
    others are listed in ``notes``; named features must exist and be numeric.
    Rows without a target value are dropped (noted).
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = [line for line in handle if not line.lstrip().startswith("#")]
    except OSError as err:
        raise ConfigError(f"cannot read dataset {path}: {err.strerror}; check the path") from err
    rows = list(csv.reader(lines))
    if len(rows) < 2:
        raise ConfigError(f"dataset {path} has no data rows; it needs a header and rows")
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(cell.strip() for cell in r)]
    if target not in header:
        raise ConfigError(
            f"dataset {path.name} has no column {target!r}; columns are: {', '.join(header)}"
        )
    parsed: dict[str, list[float] | None] = {}
    for j, name in enumerate(header):
        values = [_number(r[j]) if j < len(r) else math.nan for r in body]
        numbers = [v for v in values if v is not None]
        parsed[name] = numbers if len(numbers) == len(values) else None
    notes: list[str] = []
    if parsed[target] is None:
        raise ConfigError(
            f"target column {target!r} in {path.name} is not numeric; pick a number column"
        )
    if features:
        unknown = [f for f in features if f not in header]
        if unknown:
            raise ConfigError(f"dataset {path.name} has no column(s) {', '.join(unknown)}")
        text = [f for f in features if parsed[f] is None]
        if text:
            raise ConfigError(
                f"feature column(s) {', '.join(text)} in {path.name} are not numeric; "
                "leave them out of --features"
            )
        columns = [f for f in features if f != target]
        ignored: list[str] = []
    else:
        columns = [h for h in header if h != target and parsed[h] is not None]
        ignored = [h for h in header if h != target and parsed[h] is None]
        if ignored:
            notes.append(f"ignored non-numeric column(s): {', '.join(ignored)}")
    if not columns:
        raise ConfigError(f"dataset {path.name} has no numeric feature columns besides {target!r}")
    y = np.array(parsed[target], dtype=float)
    X = np.array([parsed[c] for c in columns], dtype=float).T
    keep = np.isfinite(y)
    if not keep.all():
        notes.append(f"dropped {int((~keep).sum())} row(s) without a {target} value")
    return Table(
        X=X[keep], y=y[keep], columns=tuple(columns), target=target, notes=notes, ignored=ignored
    )
