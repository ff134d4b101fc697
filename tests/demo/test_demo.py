"""`bachbot demo`: the whole loop offline, judged by the simulated listener's hidden taste."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from service.demo import run_demo
from service.settings import Settings

pytestmark = pytest.mark.skipif(
    os.environ.get("BACHBOT_TEST_DB") == "postgres",
    reason="the demo keeps its own SQLite database; it runs in the SQLite pass",
)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("seed", [0, 1])
def test_demo_playlist_beats_a_random_pick(settings: Settings, tmp_path: Path, seed: int) -> None:
    result = run_demo(settings, cycles=5, seed=seed, data_dir=tmp_path / "demo")
    last = result.cycles[-1]
    assert last.published >= 10
    assert last.loved_share is not None and last.random_share is not None
    assert last.loved_share >= last.random_share + 0.25, result.cycles
    assert last.nested_r2 is not None and last.model_kind == "mlp"
    assert [c.ratings for c in result.cycles] == sorted(c.ratings for c in result.cycles)
    assert (tmp_path / "demo" / "bachbot.db").exists()


@pytest.mark.timeout(300)
def test_demo_cli_prints_cycles_and_json(
    cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    code, out, err = cli("demo", "--cycles", "2", "--seed", "4", "--data-dir", str(tmp_path / "d"))
    assert code == 0, err
    assert "cycle 1:" in out and "cycle 2:" in out
    assert "loved" in out and "random pick" in out
    assert "simulated" in out
    assert "bachbot auth" in out
    code, out, err = cli("demo", "--cycles", "1", "--json", "--data-dir", str(tmp_path / "j"))
    assert code == 0, err
    figures = json.loads(out)
    assert figures["simulated_audio"] is True
    assert len(figures["cycles"]) == 1
    assert {"ratings", "nested_r2", "loved_share", "random_share"} <= set(figures["cycles"][0])
