"""``bachbot evaluate --dataset`` on the bundled CSV, and train/score/report end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from models.datasets import SEED_LIKE_CSV
from service.settings import Settings
from tests.models.test_jobs import add_tracks

Cli = Callable[..., tuple[int, str, str]]
QUICK_ENV = {"BACHBOT_CV_SPLITS": "3", "BACHBOT_CV_REPEATS": "1", "BACHBOT_TRAIN_JOBS": "1"}


def test_evaluate_dataset_json_has_chosen_and_all_candidates(cli: Cli) -> None:
    code, out, err = cli(
        "evaluate",
        "--dataset",
        str(SEED_LIKE_CSV),
        "--target",
        "rating",
        "--json",
        "--fast",
        env=QUICK_ENV,
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["n_samples"] == 100 and report["n_features"] == 35
    assert report["chosen"]["name"] == "mlp"
    assert {"r2", "mse", "mae", "spearman"} <= set(report["chosen"]["metrics"])
    names = {c["name"] for c in report["candidates"]}
    assert {"mlp", "mlp[lda]", "mlp[pca]", "mlp[none]", "mean", "ridge", "knn", "hgb"} <= names
    assert report["ignored_columns"] == ["track"]
    assert "ignored non-numeric column(s): track" in err


def test_evaluate_dataset_with_named_features_and_a_binary_target_reports_roc_auc(
    cli: Cli, tmp_path: Path
) -> None:
    rows = [line for line in SEED_LIKE_CSV.read_text().splitlines() if not line.startswith("#")]
    header = rows[0].split(",")
    rating = header.index("rating")
    lines = [rows[0] + ",loved"]
    for row in rows[1:]:
        lines.append(row + ("," + ("1" if float(row.split(",")[rating]) >= 7 else "0")))
    path = tmp_path / "loved.csv"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = cli(
        "evaluate",
        "--dataset",
        str(path),
        "--target",
        "loved",
        "--features",
        "valence,mode,acousticness,energy,tempo",
        "--json",
        "--fast",
        env=QUICK_ENV,
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["binary_target"] is True
    assert report["features"] == ["valence", "mode", "acousticness", "energy", "tempo"]
    assert report["chosen"]["metrics"]["roc_auc"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "stars"], "has no column 'stars'"),
        (["--target", "rating", "--features", "valence,track"], "not numeric"),
        ([], "--dataset needs --target"),
    ],
)
def test_evaluate_dataset_mistakes_get_one_clear_line(
    cli: Cli, args: list[str], message: str
) -> None:
    code, _, err = cli("evaluate", "--dataset", str(SEED_LIKE_CSV), *args)
    assert code != 0
    assert message in err and "Traceback" not in err


def test_train_score_and_report_from_the_command_line(
    cli: Cli, session: Session, settings: Settings
) -> None:
    add_tracks(session, 50, rated=30)
    session.commit()
    code, out, err = cli("train", "--fast", env=QUICK_ENV)
    assert code == 0, err
    assert "promoted: no model in use yet" in out and "training on 30 ratings" in err
    code, out, err = cli("score", env=QUICK_ENV)
    assert code == 0, err
    assert "scored 20 tracks with mlp model" in out
    target = settings.data_dir / "r.html"
    code, out, err = cli("report", "--fast", "--output", str(target), env=QUICK_ENV)
    assert code == 0, err
    assert target.read_text().count("data:image/png") >= 5


def test_report_with_too_few_ratings_says_so(
    cli: Cli, session: Session, settings: Settings
) -> None:
    add_tracks(session, 10, rated=3)
    session.commit()
    code, out, _ = cli("report", env=QUICK_ENV)
    assert code == 0
    page = (settings.data_dir / "report.html").read_text()
    assert "only 3 rated Bach tracks" in page and "only 3 rated Bach tracks" in out
