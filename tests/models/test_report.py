"""The HTML report: every plot embedded, each table once, a sentence instead of an empty plot."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from models.evaluate import train_model
from models.report import VersionPoint, better_alternative, comparison_text, render_report
from models.target import from_binary
from tests.models.conftest import QUICK, taste_labels

HISTORY = [
    VersionPoint(datetime(2026, 1, 1, tzinfo=UTC), "v0", "mlp", 0.41, True, "r2"),
    VersionPoint(datetime(2026, 1, 2, tzinfo=UTC), "v1", "coldstart", None, True),
    VersionPoint(datetime(2026, 1, 3, tzinfo=UTC), "v2", "mlp", 0.71, True),
    VersionPoint(datetime(2026, 1, 4, tzinfo=UTC), "v3", "mlp", 0.69, False),
]


def test_report_embeds_every_plot_and_every_model_once() -> None:
    X, labels = taste_labels(60, 4)
    X[:, 3] = np.random.default_rng(1).integers(0, 2, 60)
    columns = ["audio.valence", "b", "c", "audio.mode"]
    result = train_model(X, labels, options=QUICK, columns=columns)
    page = render_report(
        evaluation=result.evaluation, model=result.model, X=X, y=labels.loved, history=HISTORY
    )
    assert len(re.findall(r"src='data:image/png;base64,", page)) == 7
    assert "Not drawn" not in page
    for name in ("mlp[lda]", "logreg", "hgb", "rf", "prior"):
        assert page.count(f"<td>{name}") == 1, name  # one table, not a text copy above it
    assert "<pre>" not in page


def test_report_explains_what_it_cannot_draw() -> None:
    X, labels = taste_labels(60, 3)
    result = train_model(X, labels, options=QUICK, columns=["a", "b", "c"])
    page = render_report(evaluation=result.evaluation, model=result.model, X=X, y=labels.loved)
    assert "Not drawn: no valence and mode descriptors" in page
    assert "Not drawn: no trained model versions" in page


def test_too_little_data_gives_a_clear_message_and_no_empty_plots() -> None:
    page = render_report(
        evaluation=None, model=None, X=None, y=None, message="only 4 rated Bach tracks"
    )
    assert "only 4 rated Bach tracks" in page
    assert "data:image/png" not in page


def test_terminal_table_suggests_a_model_the_paired_test_finds_better() -> None:
    """Loved: a band of one descriptor, which trees find and a small MLP does not."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(150, 3))
    loved = ((np.abs(X[:, 0]) < 0.8) | (X[:, 0] > 2.2)).astype(float)
    result = train_model(
        X, from_binary(loved), options=replace(QUICK, outer_repeats=3), columns=list("abc")
    )
    text = comparison_text(result.evaluation)
    alternative = better_alternative(result.evaluation)
    assert alternative is not None and alternative.name in {"rf", "hgb"}
    assert alternative.vs_chosen is not None and alternative.vs_chosen.p < 0.05
    assert f"note: {alternative.name} ranks better than the chosen mlp" in text
    assert "chosen: mlp" in text and "fold SD" in text


def test_no_suggestion_for_a_difference_inside_the_noise() -> None:
    X, labels = taste_labels(60)
    result = train_model(X, labels, options=QUICK, columns=list("abcdef"))
    for family in result.evaluation.families.values():
        if family.vs_chosen is not None and family.vs_chosen.mean > 0:
            family.vs_chosen = replace(family.vs_chosen, p=0.3)  # larger, but not significantly
    assert better_alternative(result.evaluation) is None
    assert "ranks better" not in comparison_text(result.evaluation)
