"""The HTML report: every plot embedded, and a sentence instead of an empty plot."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np

from models.evaluate import train_model
from models.report import VersionPoint, comparison_text, render_report
from tests.models.conftest import QUICK, taste_data

HISTORY = [
    VersionPoint(datetime(2026, 1, 1, tzinfo=UTC), "v1", "coldstart", None, True),
    VersionPoint(datetime(2026, 1, 2, tzinfo=UTC), "v2", "mlp", 0.41, True),
    VersionPoint(datetime(2026, 1, 3, tzinfo=UTC), "v3", "mlp", 0.37, False),
]


def test_report_embeds_all_six_plots_and_every_candidate() -> None:
    X, y = taste_data(45, 4)
    X[:, 3] = np.random.default_rng(1).integers(0, 2, 45)
    result = train_model(X, y, options=QUICK, columns=["audio.valence", "b", "c", "audio.mode"])
    page = render_report(
        evaluation=result.evaluation, model=result.model, X=X, y=y, history=HISTORY
    )
    assert len(re.findall(r"src='data:image/png;base64,", page)) == 6
    assert "Not drawn" not in page
    for name in ("mlp[lda]", "ridge", "hgb", "seed protocol (leaky)"):
        assert name in page


def test_report_explains_missing_valence_instead_of_drawing_nothing() -> None:
    X, y = taste_data(45, 3)
    result = train_model(X, y, options=QUICK, columns=["a", "b", "c"])
    page = render_report(evaluation=result.evaluation, model=result.model, X=X, y=y)
    assert "Not drawn: no valence and mode descriptors" in page
    assert "Not drawn: no trained model versions" in page


def test_too_little_data_gives_a_clear_message_and_no_empty_plots() -> None:
    page = render_report(
        evaluation=None, model=None, X=None, y=None, message="only 4 rated Bach tracks"
    )
    assert "only 4 rated Bach tracks" in page
    assert "data:image/png" not in page


def test_terminal_table_says_when_a_baseline_beats_the_seeds_model() -> None:
    X, y = taste_data(45, 3)
    X = np.column_stack([X, (y > 5).astype(float)])  # a feature a linear model reads directly
    result = train_model(X, y, options=QUICK, columns=list("abcd"))
    text = comparison_text(result.evaluation)
    assert "chosen: mlp" in text
    assert "note: ridge beats the chosen mlp by" in text
