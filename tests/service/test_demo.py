"""`bachbot demo`: the whole loop offline, judged by the simulated listener's hidden taste."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from service.demo import run_demo
from service.demo_folders import MARKER
from service.errors import DataDirUnusable
from service.settings import Settings

pytestmark = pytest.mark.skipif(
    os.environ.get("BACHBOT_TEST_DB") == "postgres",
    reason="the demo keeps its own SQLite database; it runs in the SQLite pass",
)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("seed", [0, 1])
def test_demo_playlist_beats_a_random_pick_and_the_nearest_neighbour_ranker(
    settings: Settings, tmp_path: Path, seed: int
) -> None:
    result = run_demo(settings, cycles=6, seed=seed, data_dir=tmp_path / "demo")
    last = result.cycles[-1]
    assert last.published >= 10
    shares = result.summarise()
    assert shares["bachbot"].share >= shares["random"].share + 0.15, result.cycles
    assert shares["bachbot"].low > shares["random"].high, shares  # not within the noise
    assert shares["bachbot"].share > shares["nearest_neighbour"].share, shares
    assert last.nested_auc is not None and last.model_kind != "coldstart"
    assert [c.ratings for c in result.cycles] == sorted(c.ratings for c in result.cycles)
    gates = [c.gate for c in result.cycles if c.gate]
    assert gates and all(g.startswith(("promoted", "kept")) for g in gates)
    compared = [g for g in gates if "on the same" in g]
    assert all("SE" in g and "margin" in g for g in compared)  # the gate's numbers shown
    assert any(c.asked for c in result.cycles) and any(c.answered for c in result.cycles)
    assert (Path(result.data_dir) / "bachbot.db").exists()


@pytest.mark.timeout(300)
def test_demo_cli_prints_cycles_the_gate_and_json(
    cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    code, out, err = cli("demo", "--cycles", "2", "--seed", "4", "--data-dir", str(tmp_path / "d"))
    assert code == 0, err
    assert "cycle 1:" in out and "cycle 2:" in out and "retrain: promoted" in out
    assert "loved" in out and "random pick" in out
    assert "simulated" in out and "refused audio-features" not in out + err
    assert "bachbot auth" in out
    code, out, err = cli("demo", "--cycles", "1", "--json", "--data-dir", str(tmp_path / "j"))
    assert code == 0, err
    figures = json.loads(out)
    assert figures["simulated_audio"] is True
    assert len(figures["cycles"]) == 1
    assert {"ratings", "nested_auc", "gate", "loved_share", "random_share"} <= set(
        figures["cycles"][0]
    )
    assert all("predicted" in row for row in figures["playlist"])


def test_demo_never_deletes_what_it_did_not_create(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    (folder / "bachbot.db").write_bytes(b"my real database")
    with pytest.raises(DataDirUnusable, match="did not create; nothing was changed"):
        run_demo(settings, cycles=1, data_dir=folder)
    assert (folder / "notes.txt").read_text() == "my notes"
    assert (folder / "bachbot.db").read_bytes() == b"my real database"
    assert sorted(p.name for p in folder.iterdir()) == ["bachbot.db", "notes.txt"]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(DataDirUnusable, match="is a file"):
        run_demo(settings, cycles=1, data_dir=a_file)
    assert a_file.read_text() == "x"


@pytest.mark.timeout(300)
def test_demo_keeps_earlier_runs_unless_fresh(settings: Settings, tmp_path: Path) -> None:
    root = tmp_path / "demo"
    first = run_demo(settings, cycles=1, data_dir=root)
    second = run_demo(settings, cycles=1, data_dir=root)
    assert Path(first.data_dir).name == "run-1" and Path(second.data_dir).name == "run-2"
    assert (Path(first.data_dir) / "bachbot.db").exists()
    (root / "run-1" / "my-notes.txt").write_text("kept")
    unrelated = root / "keep-me"
    unrelated.mkdir()
    old_models = set((root / "run-2" / "models").iterdir())
    third = run_demo(settings, cycles=1, data_dir=root, fresh=True)
    assert old_models and not any(path.exists() for path in old_models)
    assert unrelated.exists()
    assert (root / "run-1" / "my-notes.txt").read_text() == "kept"  # not the demo's to delete
    assert sorted(p.name for p in (root / "run-1").iterdir()) == ["my-notes.txt"]
    assert Path(third.data_dir).name == "run-2"  # the next free number
    assert (root / MARKER).exists()
