"""Nested evaluation: every family on the same folds, honest scores and spreads."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from models.errors import NotEnoughData
from models.evaluate import evaluate, train_model
from models.folds import Grouping
from models.nested import AUTO
from models.pipeline import score
from models.study import leaky_protocol, study_regression
from models.target import from_binary, from_ratings
from tests.models.conftest import QUICK, taste_labels


def test_noise_features_score_at_chance_nested_but_high_with_the_studys_leaky_lda() -> None:
    """The study fitted LDA on all ratings before CV; with 100 noise descriptors for
    60 tracks that alone makes the ratings look predictable."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 100))
    y = rng.choice([3.0, 8.0], size=60)
    groups = np.arange(60)
    nested = study_regression(X, y, groups, options=QUICK)
    assert nested is not None and nested.nested["r2"].mean < 0.1
    assert leaky_protocol(X, y, groups, options=QUICK)["r2"].mean > 0.3
    evaluation, _ = evaluate(X, from_ratings(y), options=QUICK)
    assert evaluation.families["mlp[lda]"].score < 0.7


def test_learnable_taste_beats_the_base_rate() -> None:
    X, labels = taste_labels(60)
    evaluation, _ = evaluate(X, labels, options=QUICK)
    assert evaluation.families["mlp"].score > 0.8
    assert evaluation.families["prior"].score == pytest.approx(0.5)


def test_every_family_is_scored_on_the_same_outer_folds() -> None:
    X, labels = taste_labels(60)
    evaluation, _ = evaluate(X, labels, options=QUICK)
    names = set(evaluation.families)
    assert {"mlp", "mlp[lda]", "mlp[none]", "logreg", "knn", "hgb", "rf", "coldstart"} <= names
    folds = {
        name: [tuple(f.test_index) for f in fam.folds] for name, fam in evaluation.families.items()
    }
    assert len({tuple(v) for v in folds.values()}) == 1


@pytest.mark.parametrize("choose", ["mlp", "auto"])
def test_leaving_out_the_report_only_families_changes_no_decision(choose: str) -> None:
    """``report=False`` (the replay's setting) drops what only the report reads; the chosen
    family's folds, score, final configuration and predictions stay exactly the same."""
    X, labels = taste_labels(70, seed=5)
    full = train_model(X, labels, options=replace(QUICK, choose=choose), columns=list("abcdef"))
    lean = train_model(
        X, labels, options=replace(QUICK, choose=choose, report=False), columns=list("abcdef")
    )
    assert set(lean.evaluation.families) < set(full.evaluation.families)
    assert "mlp[lda]" not in lean.evaluation.families
    assert ("hgb" in lean.evaluation.families) == (choose == "auto")
    assert lean.evaluation.score == full.evaluation.score
    assert lean.evaluation.final_config == full.evaluation.final_config
    a, _ = score(full.model, X)
    b, _ = score(lean.model, X)
    np.testing.assert_allclose(a, b)


def test_auto_reports_the_outer_score_of_the_choosing_procedure() -> None:
    """auto's number is what its per-fold choices scored, not the best family's number."""
    X, labels = taste_labels(90, seed=3)
    X[:, 0] = np.round(X[:, 0])  # a step function: trees have an edge in some folds
    evaluation, _ = evaluate(X, labels, options=replace(QUICK, choose="auto"))
    auto = evaluation.families[AUTO]
    assert evaluation.chosen == AUTO
    by_config = {}
    for fam in evaluation.families.values():
        for fold in fam.folds:
            by_config[(fold.fold, fold.config)] = fold.prediction
    for fold in auto.folds:  # each fold's prediction is the chosen configuration's
        np.testing.assert_array_equal(fold.prediction, by_config[(fold.fold, fold.config)])
    best_family = max(f.score for n, f in evaluation.families.items() if n != AUTO)
    assert auto.score <= best_family + 1e-12


def test_spread_is_the_fold_sd_and_differences_carry_a_standard_error() -> None:
    X, labels = taste_labels(60)
    evaluation, _ = evaluate(X, labels, options=QUICK)
    mlp = evaluation.families["mlp"]
    aucs = mlp.primary_by_fold()
    assert mlp.summary["roc_auc"].sd == pytest.approx(float(np.std(aucs, ddof=1)))
    knn = evaluation.families["knn"].vs_chosen
    assert knn is not None and knn.folds == 3 and knn.se > 0 and 0 <= knn.p <= 1
    assert evaluation.families["mlp"].vs_chosen is None  # the chosen one itself


def test_json_report_has_chosen_and_every_candidate() -> None:
    X, labels = taste_labels(60)
    result = train_model(X, labels, options=replace(QUICK, augment=True), columns=list("abcdef"))
    report = result.evaluation.to_dict()
    assert report["chosen"]["name"] == "mlp"
    assert 0.5 < report["chosen"]["roc_auc"] <= 1
    assert report["chosen"]["final_config"].startswith("mlp(")
    assert sum(report["chosen"]["params_by_fold"].values()) == 3
    names = [c["name"] for c in report["candidates"]]
    assert "mlp+augment" in names and "hgb" in names and "rf" in names
    assert report["cv"]["grouping"] == "none"
    assert report["study"] is not None  # every rating was explicit
    assert report["calibration"]["brier"] is not None


def test_trained_model_gives_probabilities_and_a_spread_from_fold_models() -> None:
    X, labels = taste_labels(60)
    result = train_model(X, labels, options=QUICK, columns=list("abcdef"))
    prob, spread = score(result.model, X[:5])
    assert len(result.model.fold_models) == QUICK.outer_splits
    assert prob.shape == spread.shape == (5,)
    assert ((prob > 0) & (prob < 1)).all()
    assert (spread >= 0).all() and spread.max() > 0


def test_groups_are_never_split_across_folds() -> None:
    X, labels = taste_labels(60)
    groups = np.arange(60) // 3  # twenty recordings, three copies each
    evaluation, _ = evaluate(X, labels, options=QUICK, groupings=[Grouping("recording", groups)])
    assert evaluation.grouping.name == "recording"
    for fold in evaluation.chosen_result.folds:
        inside = set(groups[fold.test_index])
        outside = set(groups) - inside
        assert inside.isdisjoint(outside)
        assert set(np.unique(labels.loved[fold.test_index])) == {0, 1}  # stratified


def test_a_grouping_too_coarse_for_the_folds_falls_back_and_says_so() -> None:
    X, labels = taste_labels(60)
    coarse = Grouping("work", (np.arange(60) // 20).astype(np.int64))  # three works only
    evaluation, _ = evaluate(X, labels, options=QUICK, groupings=[coarse])
    assert evaluation.grouping.name == "none"
    assert any("could not be grouped" in note for note in evaluation.notes)


def test_too_few_of_one_kind_are_refused_with_the_number_needed() -> None:
    X, _ = taste_labels(40)
    y = np.zeros(40)
    y[:4] = 1
    with pytest.raises(NotEnoughData, match=r"4 loved and 36 not-loved.*at least 5"):
        evaluate(X, from_binary(y), options=QUICK)


def test_the_study_r2_is_reported_only_for_explicit_ratings() -> None:
    X, labels = taste_labels(60)
    implicit = replace(labels, explicit=np.zeros(60, dtype=bool))
    evaluation, _ = evaluate(X, implicit, options=QUICK)
    assert evaluation.study is None
    evaluation, _ = evaluate(X, labels, options=QUICK)
    assert evaluation.study is not None and evaluation.study.n == 60
    assert math.isfinite(evaluation.study.nested["r2"].mean)
