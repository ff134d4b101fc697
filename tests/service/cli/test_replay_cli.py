"""``bachbot replay`` on a labelled CSV: per-round figures for bachbot and the baselines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

Cli = Callable[..., tuple[int, str, str]]


def _csv(path: Path, n: int = 150) -> Path:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 4))
    liked = (X[:, 0] - X[:, 2] + rng.normal(scale=0.7, size=n)) > 0.5
    lines = ["energy,valence,tempo,acousticness,popularity,liked,song"]
    for i, (row, like) in enumerate(zip(X, liked, strict=True)):
        values = ",".join(f"{v:.4f}" for v in row)
        lines.append(f"{values},{rng.integers(0, 100)},{int(like)},song {i // 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


ARGS = ("--rounds", "2", "--repeats", "2", "--playlist-size", "8", "--to-rate", "3",
        "--start-likes", "3", "--fast")  # fmt: skip


def test_replay_json_has_rounds_baselines_and_a_summary(cli: Cli, tmp_path: Path) -> None:
    table = _csv(tmp_path / "taste.csv")
    code, out, err = cli(
        "replay", "--dataset", str(table), "--target", "liked", "--group", "song",
        "--popularity", "popularity", "--features", "energy,valence,tempo,acousticness",
        *ARGS, "--json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert payload["rows"] == 150 and payload["options"]["to_rate"] == 3
    rounds = payload["rounds"]
    assert [r["round"] for r in rounds] == [1, 2]
    assert rounds[0]["ratings"] == 3 and rounds[1]["ratings"] > 3
    assert set(rounds[0]["baselines"]) == {"random", "nn", "popular", "oracle"}
    share = rounds[1]["loved_share"]
    assert {"mean", "low", "high", "per_seed"} <= set(share) and len(share["per_seed"]) == 2
    assert set(payload["summary"]["last_round"]) == {"bachbot", "random", "nn", "popular", "oracle"}


def test_replay_prints_a_table_a_person_reads(cli: Cli, tmp_path: Path) -> None:
    table = _csv(tmp_path / "taste.csv")
    code, out, err = cli("replay", "--dataset", str(table), "--target", "liked", *ARGS)
    assert code == 0, err
    assert "loved share of the published playlist" in out
    assert "bachbot" in out and "random" in out and "nn" in out and "oracle" in out
    assert "model in use at the last round" in out and "nearest-neighbour" in out
    assert "seed 0" in err  # progress goes to stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nope"], "has no column 'nope'"),
        (["--target", "liked", "--popularity", "liked"], "is the target"),
        (["--target", "liked", "--start-likes", "500"], "starts from 500"),
    ],
)
def test_replay_mistakes_get_one_line(
    cli: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    table = _csv(tmp_path / "taste.csv")
    code, _, err = cli("replay", "--dataset", str(table), *args, "--rounds", "1", "--fast")
    lines = [line for line in err.splitlines() if line.startswith("bachbot:")]
    assert code in (1, 2) and len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err
