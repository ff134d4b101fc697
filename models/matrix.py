"""The feature matrix: one row per track, a fixed column order, NaN where nothing is known.

The layout follows the provider registry (:mod:`models.features.registry`).
Columns come in blocks, each named ``<block>.<column>``; a block's providers
share its columns, and a column takes the value of the provider with the
lowest ``priority`` that has one.  Today:

* ``audio.*``: Spotify-style descriptors.  ``spotify_audio`` and ``reccobeats``
  overlap (energy, tempo, valence, ...): a value from ``spotify_audio`` wins,
  else ReccoBeats' value is used.  Duration, time signature and the 24 segment
  means only ever come from ``spotify_audio``.
* ``metadata.*``: title, catalogue and album facts (always present).

A model trained where audio exists and one trained where it does not use the
same columns; the missing block is NaN and the pipeline imputes it (with
missing-indicators).  The schema version is derived from the column list, so
any change to a provider's columns changes it and a saved model trained on
other columns is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from models.features.base import ProviderClass
from models.features.registry import provider_classes

ProviderRow = Mapping[str, Mapping[str, float | None] | None]
"""One track: provider name -> that provider's values (None: provider has nothing)."""


@dataclass(frozen=True, slots=True)
class FeatureSchema:
    """The column order a model was trained on; compared on load."""

    version: str
    columns: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "columns": list(self.columns)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSchema:
        return cls(version=str(data["version"]), columns=tuple(data["columns"]))


@dataclass(frozen=True, slots=True)
class ColumnSource:
    """Where one matrix column comes from."""

    block: str
    column: str
    providers: tuple[str, ...]
    """The providers that have the column, the one whose value wins first."""


@dataclass(frozen=True, slots=True)
class FillStep:
    """Copy one provider's ``sources`` into the matrix columns ``targets`` where still NaN."""

    provider: str
    sources: tuple[str, ...]
    targets: npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class MatrixLayout:
    """The matrix as the registered providers make it."""

    schema: FeatureSchema
    sources: tuple[ColumnSource, ...]
    """One per column, in column order."""
    plan: tuple[FillStep, ...]
    """Every column's preferred provider before its next one (see :func:`build_matrix`)."""
    versions: Mapping[str, int]
    """Provider -> the schema version the matrix reads; stored rows at others are ignored."""


def matrix_layout() -> MatrixLayout:
    """The layout of the providers registered now (computed once per registry contents)."""
    return layout_of(provider_classes())


def feature_schema() -> FeatureSchema:
    """The columns and schema version models are trained on and checked against."""
    return matrix_layout().schema


@cache
def layout_of(providers: tuple[ProviderClass, ...]) -> MatrixLayout:
    """Blocks in the chain order of the first provider naming them; within a block the
    columns of its providers by priority, each new name appended once."""
    blocks: dict[str, list[ProviderClass]] = {}
    for provider in providers:
        blocks.setdefault(provider.block, []).append(provider)
    sources: list[ColumnSource] = []
    for block, members in blocks.items():
        members.sort(key=lambda p: p.priority)
        names = list(dict.fromkeys(c for p in members for c in p.columns))
        sources += [
            ColumnSource(block, c, tuple(p.name for p in members if c in p.columns)) for c in names
        ]
    columns = tuple(f"{s.block}.{s.column}" for s in sources)
    digest = hashlib.sha256("\n".join(columns).encode("utf-8")).hexdigest()[:12]
    return MatrixLayout(
        schema=FeatureSchema(version=f"1-{digest}", columns=columns),
        sources=tuple(sources),
        plan=_fill_plan(sources),
        versions=MappingProxyType({p.name: p.schema_version for p in providers}),
    )


def _fill_plan(sources: Sequence[ColumnSource]) -> tuple[FillStep, ...]:
    """(provider, its source columns, their matrix columns), highest priority first.

    A column several providers can fill takes the first provider's value, then
    the next one's where that is missing; so the plan lists every column's first
    provider before any column's second, and each step only fills what is NaN.
    """
    depth = max((len(s.providers) for s in sources), default=0)
    plan: list[FillStep] = []
    for level in range(depth):
        by_provider: dict[str, list[tuple[str, int]]] = {}
        for j, source in enumerate(sources):
            if level < len(source.providers):
                by_provider.setdefault(source.providers[level], []).append((source.column, j))
        for provider, pairs in by_provider.items():
            targets = np.array([j for _, j in pairs], dtype=np.intp)
            targets.setflags(write=False)  # shared by every caller through the cache
            plan.append(FillStep(provider, tuple(c for c, _ in pairs), targets))
    return tuple(plan)


def build_matrix(rows: Sequence[ProviderRow]) -> npt.NDArray[np.float64]:
    """``len(rows) x len(feature_schema().columns)`` floats, NaN where no provider knows.

    Built one provider block at a time (numpy turns ``None`` into NaN), which is
    what keeps a full rescore of 50,000 tracks cheap.
    """
    layout = matrix_layout()
    matrix = np.full((len(rows), len(layout.sources)), np.nan, dtype=np.float64)
    if not rows:
        return matrix
    for step in layout.plan:
        block = _provider_block(rows, step.provider, step.sources)
        current = matrix[:, step.targets]
        matrix[:, step.targets] = np.where(np.isnan(current), block, current)
    return matrix


def _provider_block(
    rows: Sequence[ProviderRow], provider: str, sources: Sequence[str]
) -> npt.NDArray[np.float64]:
    """``len(rows) x len(sources)``: one provider's values of these columns, NaN where absent.

    Rows are grouped by their stored key order (one provider writes its keys in
    one order, so there are few groups), and each group is read with one
    ``itemgetter`` of the keys it has: a rescore of 500,000 tracks after a
    model change spent most of its time on a ``dict.get`` per row and column.
    """
    block = np.full((len(rows), len(sources)), np.nan, dtype=np.float64)
    groups: dict[tuple[str, ...], tuple[list[int], list[Mapping[str, float | None]]]] = {}
    for i, row in enumerate(rows):
        values = row.get(provider)
        if values:
            where, found = groups.setdefault(tuple(values), ([], []))
            where.append(i)
            found.append(values)
    for keys, (where, found) in groups.items():
        have = set(keys)
        columns = [j for j, c in enumerate(sources) if c in have]
        if not columns:
            continue
        get = itemgetter(*(sources[j] for j in columns))
        read = np.array([get(values) for values in found], dtype=np.float64)
        block[np.ix_(where, columns)] = read.reshape(len(where), len(columns))
    return block
