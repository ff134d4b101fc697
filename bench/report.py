"""The benchmark's output: one row per figure, the printed table, and ``results.json``.

Every row carries its target (or ``None`` when the figure is only reported),
the measured value, and the baseline measured in the same run with the ratio
between them, so a reader never has to trust a number from another machine.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

Comparison = Literal["<=", "<", "=="]


@dataclass
class Row:
    """One measured figure."""

    section: str
    name: str
    measured: float | None
    unit: str
    target: float | None = None
    compare: Comparison = "<="
    baseline: float | None = None
    baseline_name: str = ""
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """measured / baseline (how many times the baseline this costs)."""
        if self.measured is None or not self.baseline:
            return None
        return self.measured / self.baseline

    @property
    def status(self) -> str:
        if self.target is None or self.measured is None:
            return "info" if self.measured is not None else "n/a"
        ok = {
            "<=": self.measured <= self.target + 1e-9,
            "<": self.measured < self.target,
            "==": abs(self.measured - self.target) < 1e-9,
        }[self.compare]
        return "met" if ok else "MISSED"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["status"] = self.status
        return data


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "x":
        return f"{value:.2f}x"
    if abs(value) >= 1000 or float(value).is_integer():
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def render_table(rows: list[Row]) -> str:
    """The table the benchmark prints: target and measured side by side."""
    header = ("section", "figure", "target", "measured", "baseline", "ratio", "status")
    lines = []
    for row in rows:
        target = "–" if row.target is None else f"{row.compare} {_fmt(row.target, row.unit)}"
        baseline = "–" if row.baseline is None else f"{_fmt(row.baseline, row.unit)}"
        if row.baseline_name and row.baseline is not None:
            baseline += f" ({row.baseline_name})"
        ratio = "–" if row.ratio is None else f"{row.ratio:.2f}x"
        lines.append(
            (
                row.section,
                row.name,
                target,
                _fmt(row.measured, row.unit),
                baseline,
                ratio,
                row.status,
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    notes = [f"  [{r.section}] {r.name}: {r.note}" for r in rows if r.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def render_markdown(rows: list[Row]) -> str:
    """The same table as Markdown, for the README."""
    out = [
        "| section | figure | target | measured | baseline | ratio | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        target = "–" if row.target is None else f"{row.compare} {_fmt(row.target, row.unit)}"
        baseline = "–" if row.baseline is None else _fmt(row.baseline, row.unit)
        if row.baseline_name and row.baseline is not None:
            baseline += f" ({row.baseline_name})"
        ratio = "–" if row.ratio is None else f"{row.ratio:.2f}x"
        out.append(
            f"| {row.section} | {row.name} | {target} | {_fmt(row.measured, row.unit)} | "
            f"{baseline} | {ratio} | {row.status} |"
        )
    return "\n".join(out)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    """Where the figures came from: they mean nothing without it."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": _version("numpy"),
        "scikit-learn": _version("scikit-learn"),
        "sqlalchemy": _version("sqlalchemy"),
        "spotipy": _version("spotipy"),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def write_results(
    path: Path, *, rows: list[Row], machine: dict[str, Any], options: dict[str, Any], seconds: float
) -> None:
    data = {
        "machine": machine,
        "options": options,
        "total_seconds": round(seconds, 1),
        "rows": [r.to_dict() for r in rows],
        "missed": [f"{r.section}: {r.name}" for r in rows if r.status == "MISSED"],
    }
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
