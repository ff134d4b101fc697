"""No outer test fold may shape the model that scores it.

The check is black-box: change the labels (or the features) of one outer test
fold and rerun; the fold's predictions (or its fitted model, on a fixed
probe) must not move.  Anything fitted on all rows - LDA, the scaler, the
fold models, the inner search, the choice between families - makes them move.
Deliberately leaky procedures, written here in a few lines each, show that
the check catches each of those leaks; the production loop must pass it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from models.candidates import Config, auto_configs, build, classification_families, mlp_configs
from models.folds import Split, stratified_splits
from models.nested import AUTO, choose, run_nested
from models.options import ModelOptions
from models.pipeline import Reducer, SkewAwareScaler, positive_proba, quiet_fit
from tests.models.conftest import QUICK, taste_labels

OPTIONS = replace(QUICK, choose="auto")
# What a procedure returns for outer fold 0: its test predictions, and its fitted
# model's predictions on a fixed probe set.
Procedure = Callable[[np.ndarray, np.ndarray, list[Split]], dict[str, tuple[Any, Any]]]


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Split]]:
    X, labels = taste_labels(72, p=5, seed=7)
    y = labels.loved
    splits = stratified_splits(y, np.arange(len(y)), n_splits=3, n_repeats=1, seed=0)
    probe = np.random.default_rng(1).normal(size=(25, X.shape[1]))
    return X, y, probe, splits


def production(probe: np.ndarray) -> Procedure:
    """bachbot's nested loop, every family and auto, fold 0 of the first repeat."""

    def run(X: np.ndarray, y: np.ndarray, splits: list[Split]) -> dict[str, tuple[Any, Any]]:
        families = classification_families(OPTIONS)
        out: dict[str, tuple[Any, Any]] = {}
        for keep in ["mlp", AUTO, "logreg", "knn"]:
            result = run_nested(
                X, y, groups=np.arange(len(y)), splits=splits[:1], families=families,
                auto=auto_configs(families), options=OPTIONS, keep=keep,
            )  # fmt: skip
            model = result.kept_models[0]
            out[keep] = (result.outcomes[keep][0].prediction, positive_proba(model, probe))
        return out

    return run


MLP = mlp_configs(fast=True)


def _fit_predict(config: Config, X: np.ndarray, y: np.ndarray, tr: Any, te: Any, probe: Any) -> Any:
    with quiet_fit():
        model = build(config, options=OPTIONS, n_train=len(tr)).fit(X[tr], y[tr])
    return positive_proba(model, X[te]), positive_proba(model, probe)


def leak_fold_models_on_all_rows(probe: np.ndarray) -> Procedure:
    def run(X: np.ndarray, y: np.ndarray, splits: list[Split]) -> dict[str, tuple[Any, Any]]:
        s = splits[0]
        everything = np.arange(len(y))
        return {"mlp": _fit_predict(MLP[0], X, y, everything, s.test, probe)}

    return run


def leak_inner_search_on_all_rows(probe: np.ndarray) -> Procedure:
    def run(X: np.ndarray, y: np.ndarray, splits: list[Split]) -> dict[str, tuple[Any, Any]]:
        s = splits[0]
        with quiet_fit():
            config, _ = choose(
                X, y, np.arange(len(y)), MLP, kind="classification", options=OPTIONS, seed=1
            )
        return {"mlp": _fit_predict(config, X, y, s.train, s.test, probe)}

    return run


def leak_auto_choice_outside_the_outer_loop(probe: np.ndarray) -> Procedure:
    def run(X: np.ndarray, y: np.ndarray, splits: list[Split]) -> dict[str, tuple[Any, Any]]:
        s = splits[0]
        configs = auto_configs(classification_families(OPTIONS))
        with quiet_fit():
            config, _ = choose(
                X, y, np.arange(len(y)), configs, kind="classification", options=OPTIONS, seed=1
            )
        return {AUTO: _fit_predict(config, X, y, s.train, s.test, probe)}

    return run


def _front_fitted_on_all_rows(step: Any, X: np.ndarray, y: np.ndarray) -> Any:
    with quiet_fit():
        return step.fit(X, y)


def leak_scaler_on_all_rows(probe: np.ndarray) -> Procedure:
    def run(X: np.ndarray, y: np.ndarray, splits: list[Split]) -> dict[str, tuple[Any, Any]]:
        s = splits[0]
        scaler = _front_fitted_on_all_rows(SkewAwareScaler(), X, y)
        with quiet_fit():
            head = build(MLP[0], options=OPTIONS, n_train=len(s.train))
            model = Pipeline([("scale", scaler), ("rest", head)])
            head.fit(scaler.transform(X[s.train]), y[s.train])
        return {"mlp": (positive_proba(model, X[s.test]), positive_proba(model, probe))}

    return run


def leak_lda_on_all_rows(probe: np.ndarray) -> Procedure:
    def run(X: np.ndarray, y: np.ndarray, splits: list[Split]) -> dict[str, tuple[Any, Any]]:
        s = splits[0]
        lda = _front_fitted_on_all_rows(Reducer(kind="lda"), X, y)
        with quiet_fit():
            head = build(MLP[0], options=OPTIONS, n_train=len(s.train))
            head.fit(lda.transform(X[s.train]), y[s.train])
            model = Pipeline([("lda", lda), ("rest", head)])
        return {"mlp": (positive_proba(model, X[s.test]), positive_proba(model, probe))}

    return run


def leaks(procedure: Procedure) -> list[str]:
    """What moves when outer test fold 0 changes (empty: no leak)."""
    X, y, _, splits = _data()
    test = splits[0].test
    base = procedure(X, y, splits)
    flipped = y.copy()
    flipped[test] = 1 - flipped[test]
    moved_x = X.copy()
    moved_x[test] = moved_x[test] * 3 + 5
    found = []
    for name, (pred, _) in procedure(X, flipped, splits).items():
        if not np.allclose(pred, base[name][0]):
            found.append(f"{name}: test predictions follow the test fold's labels")
    for name, (_, probe_pred) in procedure(moved_x, y, splits).items():
        if not np.allclose(probe_pred, base[name][1]):
            found.append(f"{name}: the fold's model follows the test fold's features")
    return found


def test_the_nested_loop_never_lets_a_test_fold_shape_its_model() -> None:
    _, _, probe, _ = _data()
    assert leaks(production(probe)) == []


@pytest.mark.parametrize(
    "leaky",
    [
        leak_fold_models_on_all_rows,
        leak_inner_search_on_all_rows,
        leak_auto_choice_outside_the_outer_loop,
        leak_scaler_on_all_rows,
        leak_lda_on_all_rows,
    ],
)
def test_the_check_catches_each_kind_of_leak(leaky: Callable[[np.ndarray], Procedure]) -> None:
    _, _, probe, _ = _data()
    assert leaks(leaky(probe)), f"{leaky.__name__} went unnoticed"


def test_options_used_here_really_search(quick: ModelOptions) -> None:
    """The inner-search leak can only show if there is something to choose among."""
    assert len(MLP) > 1 and len(auto_configs(classification_families(OPTIONS))) > len(MLP)
