"""``bachbot evaluate --dataset`` on the bundled CSV, and train/score/report end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from models.datasets import SEED_LIKE_CSV
from service.settings import Settings
from tests.jobs.test_train_score import add_tracks

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
    assert report["chosen"]["name"] == "mlp" and report["chosen"]["roc_auc"] is not None
    assert {"roc_auc", "precision_at_k", "ndcg_at_k", "brier"} <= set(report["chosen"]["metrics"])
    names = {c["name"] for c in report["candidates"]}
    assert {"mlp", "mlp[lda]", "mlp[none]", "prior", "logreg", "knn", "hgb", "rf"} <= names
    assert report["study"]["nested"]["r2"]["mean"] is not None  # 1-10 ratings: the study's R2
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
    assert report["features"] == ["valence", "mode", "acousticness", "energy", "tempo"]
    assert report["chosen"]["roc_auc"] is not None
    assert report["study"] is None  # a 0/1 target has no ratings to regress on


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "stars"], "has no column 'stars'"),
        (["--target", "rating", "--features", "valence,track"], "not numeric"),
        ([], "--dataset needs --target"),
        (["--target", "popularity"], "neither 0/1 nor a 1-10 rating"),
        (["--target", "rating", "--positive-at", "11"], "falls on one side"),
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
    assert "ROC AUC" in out
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
    assert "3 ratings, fewer than the 15 needed" in page and "fewer than the 15 needed" in out


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _table(rows: int, *, sep: str = ",", serial: bool = False) -> str:
    import numpy as np

    rng = np.random.default_rng(0)
    header = (["id"] if serial else []) + ["a", "b", "liked"]
    lines = [sep.join(header)]
    values = sorted(
        ((float(rng.normal()), float(rng.normal())) for _ in range(rows)),
        key=lambda ab: ab[0] + ab[1],
    )
    for i, (a, b) in enumerate(values):
        liked = int(a + b + rng.normal(scale=0.8) > 0)
        lines.append(sep.join(([str(i)] if serial else []) + [f"{a:.4f}", f"{b:.4f}", str(liked)]))
    return "\n".join(lines) + "\n"


def test_evaluate_dataset_leaves_out_an_id_column_that_follows_the_sort(
    cli: Cli, tmp_path: Path
) -> None:
    """A serial number in a table sorted by label gave a perfect ROC AUC before."""
    path = _write(tmp_path / "sorted.csv", _table(90, serial=True))
    code, out, err = cli(
        "evaluate", "--dataset", str(path), "--target", "liked", "--json", "--fast", env=QUICK_ENV
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["features"] == ["a", "b"] and report["id_like_columns"] == ["id"]
    assert "left out ID-like column(s) 'id'" in err


def test_evaluate_dataset_reads_semicolons_and_tabs(cli: Cli, tmp_path: Path) -> None:
    for sep, name in ((";", "semi.csv"), ("\t", "tab.tsv")):
        path = _write(tmp_path / name, _table(60, sep=sep))
        code, out, err = cli(
            "evaluate", "--dataset", str(path), "--target", "liked", "--json", "--fast",
            env=QUICK_ENV,
        )  # fmt: skip
        assert code == 0, err
        assert json.loads(out)["features"] == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a text CSV"),
        (b"a,b,liked\n1,2,\xff\xfe\n", "is not UTF-8 text"),
        ("a,b,liked\n1,5,1\n3,2,1\n2,6,1\n", "has a single value"),
        ("", "is empty"),
    ],
)
def test_evaluate_dataset_bad_files_give_one_line_and_exit_1(
    cli: Cli, tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = _write(tmp_path / "bad.csv", content)
    code, out, err = cli("evaluate", "--dataset", str(path), "--target", "liked", env=QUICK_ENV)
    assert code == 1
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and out == ""
