"""The benchmark harness runs end to end at tiny sizes and writes its table and JSON.

No timing is asserted: the figures depend on the machine.  What is checked is
what a reader of ``bench/results.json`` relies on: machine info, one row per
figure with target, measured value, baseline and status.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.soak import run_soak

pytestmark = pytest.mark.slow


def test_quick_bench_writes_table_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "results.json"

    assert main(["--quick", "--backend", "sqlite", "--output", str(output)]) == 0

    printed = capsys.readouterr().out
    assert "| target" in printed and "| measured" in printed
    data = json.loads(output.read_text(encoding="utf-8"))
    assert {"date", "cores", "cpu_model", "python", "numpy", "scikit-learn"} <= set(data["machine"])
    sections = {row["section"] for row in data["rows"]}
    assert {"calls/sqlite", "cycle/sqlite", "model"} <= sections
    names = [row["name"] for row in data["rows"]]
    for scenario in ("nothing changed", "5 new likes", "one playlist changed", "first sync"):
        assert any(name.startswith(scenario) for name in names), scenario
    for row in data["rows"]:
        assert {"target", "measured", "baseline", "ratio", "status", "unit"} <= set(row)
        assert row["status"] in {"met", "MISSED", "info", "n/a"}
    calls = next(r for r in data["rows"] if r["name"] == "nothing changed: calls / minimum")
    assert calls["details"]["minimum"] >= 1
    assert calls["details"]["measured_by_route"]


def test_short_soak_keeps_its_invariants(tmp_path: Path) -> None:
    result = run_soak(cycles=8, seed=3, folder=tmp_path, quiet=True)

    assert result.problems == []
    assert result.playlists_named == 1
    assert result.duplicates == 0
    assert "fault" in result.render()
