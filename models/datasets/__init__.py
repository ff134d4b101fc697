"""Bundled example tables and the reader ``bachbot evaluate --dataset`` uses.

``seed_like.csv`` is SYNTHETIC (see ``make_seed_like.py``): 100 made-up tracks
with the study's 35 Spotify descriptors and a 1-10 ``rating``, so the pipeline
can be tried and tested with no account and no one's real ratings.

The reader is careful about what it lets in as a feature: an ID-like column
(a serial number, a row index, a column named ``id``) can encode the order a
table was sorted in - a liked/disliked export sorted by label gave a perfect
ROC AUC through its row number - so such columns are left out with a note
unless named explicitly.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from models.errors import DatasetError
from models.folds import Grouping, union_groups
from models.target import RATING_MAX, RATING_MIN, Labels, from_binary, from_ratings, is_binary

SEED_LIKE_CSV = Path(__file__).with_name("seed_like.csv")
MISSING = {"", "na", "nan", "null", "none", "?"}
ID_NAMES = re.compile(r"^(|unnamed.*|id|.*_id|index|idx|serial|row|row_?num(ber)?|#|no\.?)$", re.I)
DELIMITERS = ",;\t"


@dataclass
class Table:
    """Numeric features and a target read from a CSV, plus what was left out and why."""

    X: NDArray[np.float64]
    y: NDArray[np.float64]
    columns: tuple[str, ...]
    target: str
    notes: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    id_like: list[str] = field(default_factory=list)
    groupings: list[Grouping] = field(default_factory=list)
    extra: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    """Columns asked for by ``also``: read beside the features, never used as one."""


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


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except IsADirectoryError as err:
        raise DatasetError(f"dataset {path} is a directory; give the path of a CSV file") from err
    except OSError as err:
        reason = err.strerror or str(err)
        raise DatasetError(f"cannot read dataset {path}: {reason}; check the path") from err
    if b"\x00" in data[:65536]:
        raise DatasetError(
            f"dataset {path.name} is not a text CSV (it holds binary data); export the table as CSV"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DatasetError(
            f"dataset {path.name} is not UTF-8 text (byte {err.start} cannot be decoded); "
            "save it as a UTF-8 CSV"
        ) from err


def _delimiter(header: str) -> str:
    """The header's delimiter: comma, semicolon or tab (the most frequent one)."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def is_id_like(name: str, values: Sequence[float]) -> bool:
    """A column named like an id, or whole numbers that count up (or down) by row."""
    if ID_NAMES.match(name.strip()):
        return True
    arr = np.asarray(values, dtype=float)
    if len(arr) < 3 or not np.all(np.isfinite(arr)) or not np.allclose(arr, np.rint(arr)):
        return False
    steps = np.diff(arr)
    return bool(np.all(steps > 0) or np.all(steps < 0))


def read_table(
    path: Path,
    *,
    target: str,
    features: Sequence[str] | None = None,
    group: Sequence[str] | None = None,
    also: Sequence[str] = (),
) -> Table:
    """Read a CSV (comma, semicolon or tab; ``#`` lines are comments) into X, y.

    Without ``features`` every numeric column but the target is used, except
    ID-like ones (noted); named features must exist and be numeric.  Rows
    without a target value are dropped (noted).  ``group`` names columns whose
    combined value marks related rows (the same song, the same work); without
    it, rows with identical features are grouped.  ``also`` names numeric
    columns to return beside the features (in ``Table.extra``), such as a
    popularity a baseline ranks by; they are never features.
    """
    text = _read_text(path)
    lines = [line for line in io.StringIO(text) if not line.lstrip().startswith("#")]
    if not lines:
        raise DatasetError(f"dataset {path.name} is empty; it needs a header and rows")
    rows = list(csv.reader(lines, delimiter=_delimiter(lines[0])))
    if len(rows) < 2:
        raise DatasetError(f"dataset {path.name} has no data rows; it needs a header and rows")
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(cell.strip() for cell in r)]
    if target not in header:
        raise DatasetError(
            f"dataset {path.name} has no column {target!r}; columns are: {', '.join(header)}"
        )
    parsed: dict[str, list[float] | None] = {}
    raw: dict[str, list[str]] = {}
    for j, name in enumerate(header):
        cells = [r[j] if j < len(r) else "" for r in body]
        raw[name] = cells
        values = [_number(c) for c in cells]
        numbers = [v for v in values if v is not None]
        parsed[name] = numbers if len(numbers) == len(values) else None
    notes: list[str] = []
    target_values = parsed[target]
    if target_values is None:
        raise DatasetError(
            f"target column {target!r} in {path.name} is not numeric; pick a number column"
        )
    id_like: list[str] = []
    if features:
        unknown = [f for f in features if f not in header]
        if unknown:
            raise DatasetError(f"dataset {path.name} has no column(s) {', '.join(unknown)}")
        text_columns = [f for f in features if parsed[f] is None]
        if text_columns:
            raise DatasetError(
                f"feature column(s) {', '.join(text_columns)} in {path.name} are not numeric; "
                "leave them out of --features"
            )
        columns = [f for f in features if f != target]
        ignored: list[str] = []
        named_ids = [c for c in columns if is_id_like(c, parsed[c] or [])]
        if named_ids:
            notes.append(
                f"warning: {', '.join(named_ids)} look(s) like an id or row number; "
                "a column that follows the table's order can leak the label"
            )
    else:
        numeric = [h for h in header if h != target and parsed[h] is not None]
        id_like = [h for h in numeric if is_id_like(h, parsed[h] or [])]
        columns = [h for h in numeric if h not in id_like]
        ignored = [h for h in header if h != target and parsed[h] is None]
        if id_like:
            notes.append(
                f"left out ID-like column(s) {', '.join(repr(c) for c in id_like)} (named like an "
                "id or counting up by row); name them in --features to use them anyway"
            )
        if ignored:
            notes.append(f"ignored non-numeric column(s): {', '.join(ignored)}")
    for name in also:
        if name == target or name not in header:
            what = "is the target" if name == target else "is not a column"
            raise DatasetError(f"{name!r} {what} of {path.name}; name another column")
        if parsed[name] is None:
            raise DatasetError(f"column {name!r} in {path.name} is not numeric")
        if features and name in features:
            raise DatasetError(f"{name!r} cannot be both a feature and read beside them")
    columns = [c for c in columns if c not in also]
    if not columns:
        raise DatasetError(f"dataset {path.name} has no numeric feature columns besides {target!r}")
    y = np.array(target_values, dtype=float)
    X = np.array([parsed[c] for c in columns], dtype=float).T
    keep = np.isfinite(y)
    if not keep.all():
        notes.append(f"dropped {int((~keep).sum())} row(s) without a {target} value")
    if len(np.unique(y[keep])) < 2:
        raise DatasetError(
            f"target column {target!r} in {path.name} has a single value; a model needs "
            "rows of at least two kinds (loved and not)"
        )
    groupings = _groupings(path, header, raw, X, keep, group)
    return Table(
        X=X[keep],
        y=y[keep],
        columns=tuple(columns),
        target=target,
        notes=notes,
        ignored=ignored,
        id_like=id_like,
        groupings=groupings,
        extra={name: np.array(parsed[name], dtype=float)[keep] for name in also},
    )


def _groupings(
    path: Path,
    header: Sequence[str],
    raw: dict[str, list[str]],
    X: NDArray[np.float64],
    keep: NDArray[np.bool_],
    group: Sequence[str] | None,
) -> list[Grouping]:
    if group:
        unknown = [g for g in group if g not in header]
        if unknown:
            raise DatasetError(f"dataset {path.name} has no group column(s) {', '.join(unknown)}")
        keys = ["\x1f".join(raw[g][i].strip().lower() for g in group) for i in np.flatnonzero(keep)]
        return [Grouping("+".join(group), union_groups(keys))]
    rows = [tuple(np.round(row, 9).tolist()) for row in X[keep]]
    return [Grouping("identical rows", union_groups(rows))]


def dataset_labels(
    y: NDArray[np.float64], positive_at: float | None, love_threshold: float, target: str
) -> Labels:
    """What counts as loved in a table's target column.

    A 0/1 column is used as it is; a 1-10 rating column is cut at the love
    threshold (and also feeds the study's regression R2); any other scale
    needs ``--positive-at``.
    """
    if positive_at is not None:
        labels = from_ratings(y, threshold=positive_at, explicit=np.ones(len(y), dtype=bool))
    elif is_binary(y):
        labels = from_binary(y)
    elif float(np.min(y)) >= RATING_MIN and float(np.max(y)) <= RATING_MAX:
        labels = from_ratings(y, threshold=love_threshold, explicit=np.ones(len(y), dtype=bool))
    else:
        raise DatasetError(
            f"target {target!r} is neither 0/1 nor a 1-10 rating; say which values count as "
            "loved with --positive-at VALUE"
        )
    if labels.n_positive == 0 or labels.n_negative == 0:
        raise DatasetError(
            f"every row of {target!r} falls on one side of the threshold; a model needs loved "
            "and not-loved rows (adjust --positive-at)"
        )
    return labels
