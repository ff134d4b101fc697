"""The benchmark harness runs end to end at tiny sizes and writes its table and JSON.

No timing is asserted: the figures depend on the machine.  What is checked is
what a reader of ``bench/results.json`` relies on: machine info, one row per
figure with target, measured value, baseline and status.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import default_out_dir, main
from bench.soak import run_soak

pytestmark = pytest.mark.slow


@pytest.mark.timeout(600)  # a hang guard: seven sections, one a small demo, on a shared 2-core box
def test_quick_bench_writes_table_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"

    assert main(["--quick", "--backend", "sqlite", "--out", str(out)]) == 0

    printed = capsys.readouterr()
    assert "| target" in printed.out and "| measured" in printed.out
    progress = [line for line in printed.err.splitlines() if line.startswith("[")]
    steps = [
        "calls per cycle", "new releases", "template", "cycle time", "training", "replay",
        "start-up", "explanations", "Deezer previews", "done",
    ]  # fmt: skip
    assert len(progress) == len(steps), "not one progress line per section:\n" + printed.err
    assert all(name in line for name, line in zip(steps, progress, strict=True)), progress
    assert " INFO " not in printed.err, "info logs without --verbose"
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert (out / "results.md").read_text(encoding="utf-8").startswith("# Latest benchmark")
    assert {"date", "cores", "cpu_model", "python", "numpy", "scikit-learn"} <= set(data["machine"])
    sections = {row["section"] for row in data["rows"]}
    assert {"calls/sqlite", "releases", "cycle/sqlite", "model", "startup", "explain",
            "previews"} <= sections  # fmt: skip
    names = [row["name"] for row in data["rows"]]
    for scenario in ("nothing changed", "5 new likes", "one playlist changed", "first sync"):
        assert any(name.startswith(scenario) for name in names), scenario
    for row in data["rows"]:
        assert {"target", "measured", "baseline", "ratio", "status", "unit"} <= set(row)
        assert row["status"] in {"met", "MISSED", "info", "n/a"}
    assert data["missed"] == [], "a quick run shows a target it cannot be held to"
    calls = next(r for r in data["rows"] if r["name"] == "nothing changed: calls / minimum")
    assert calls["details"]["minimum"] >= 1
    assert calls["details"]["measured_by_route"]
    first = next(
        r for r in data["rows"] if r["name"] == "first sync, large library: calls / minimum"
    )
    assert first["target"] is None and first["note"].startswith("no target in a quick run")
    help_cpu = next(r for r in data["rows"] if r["name"] == "`bachbot --help`: CPU time")
    assert help_cpu["baseline"] and help_cpu["ratio"]


def test_default_results_folder_is_the_checkout_never_an_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import __main__ as bench_main

    assert default_out_dir() == Path(bench_main.__file__).resolve().parent  # a checkout
    installed = tmp_path / "lib" / "python3.11" / "site-packages" / "bench" / "__main__.py"
    installed.parent.mkdir(parents=True)
    monkeypatch.setattr(bench_main, "__file__", str(installed))
    monkeypatch.chdir(tmp_path)
    assert default_out_dir() == tmp_path / "bench-results"


def test_short_soak_keeps_its_invariants(tmp_path: Path) -> None:
    result = run_soak(cycles=8, seed=3, folder=tmp_path, quiet=True)

    assert result.problems == []
    assert result.playlists_named == 1
    assert result.duplicates == 0
    assert "fault" in result.render()
