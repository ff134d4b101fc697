"""The folded scorer gives the probabilities scikit-learn gives, for every foldable pipeline."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from models.candidates import BUILDERS, Config
from models.compiled import CompiledScorer, compile_pipeline
from models.options import ModelOptions
from models.pipeline import TasteModel, positive_proba, quiet_fit


def _table(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns like the matrix's: gaps (missing audio), skewed and tied columns, 0/1 flags."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 24))
    X[:, 3] = rng.exponential(size=n) ** 3  # strongly skewed: mapped through quantiles
    X[:, 4] = np.where(rng.random(n) < 0.6, 0.0, rng.exponential(size=n))  # skewed, tied
    X[:, 5:9] = rng.random((n, 4)) < 0.2  # flags
    X[rng.random(n) < 0.3, 10:16] = np.nan  # a provider that did not answer
    X[rng.random(n) < 0.1, 3] = np.nan
    y = (X[:, 0] + np.nan_to_num(X[:, 10]) + rng.normal(size=n) > 0).astype(int)
    return X, y


FOLDABLE = [
    Config.of("mlp", reduce="none", activation="logistic", hidden=(16,), alpha=3.0),
    Config.of("mlp", reduce="pca", activation="logistic", hidden=(16,), alpha=3.0),
    Config.of("mlp", reduce="lda", activation="logistic", hidden=(2, 2), alpha=0.1),
    Config.of("mlp", reduce="none", activation="tanh", hidden=(16,), alpha=1.0),
    Config.of("mlp", reduce="none", activation="relu", hidden=(8, 4), alpha=1.0),
    Config.of("mlp+augment", reduce="none", activation="logistic", hidden=(8,), alpha=3.0),
    Config.of("logreg", C=1.0),
]


@pytest.mark.parametrize("config", FOLDABLE, ids=lambda c: c.key)
def test_folded_pipeline_gives_scikit_learns_probabilities(config: Config) -> None:
    X, y = _table(300, seed=0)
    options = ModelOptions(fast=True)
    with quiet_fit():  # a fit that stops at its iteration cap is still a fit to fold
        pipelines = [
            BUILDERS[config.family](config, seed=s, n_train=len(y), options=options).fit(X, y)
            for s in range(3)
        ]
    compiled = CompiledScorer.of(pipelines)
    assert compiled is not None
    new, _ = _table(500, seed=1)
    for got, pipeline in zip(compiled.positive_proba(new), pipelines, strict=True):
        assert got == pytest.approx(positive_proba(pipeline, new), abs=1e-9)


@pytest.mark.parametrize("family", ["rf", "hgb", "knn", "prior", "coldstart"])
def test_other_families_are_not_folded(family: str) -> None:
    X, y = _table(200, seed=0)
    config = Config.of(family)
    pipeline = BUILDERS[family](config, seed=0, n_train=len(y), options=ModelOptions(fast=True))
    assert compile_pipeline(pipeline.fit(X, y)) is None


def test_taste_model_scores_the_same_folded_and_keeps_the_fold_out_of_its_artifact() -> None:
    X, y = _table(300, seed=0)
    config = FOLDABLE[0]
    options = ModelOptions(fast=True)
    fits = [
        BUILDERS["mlp"](config, seed=s, n_train=len(y), options=options).fit(X, y) for s in range(4)
    ]
    model = TasteModel("mlp", "mlp", {}, fits[0], tuple(f"c{j}" for j in range(24)),
                       fold_models=fits[1:])  # fmt: skip
    new, _ = _table(100, seed=2)
    prob, spread = model.predict_with_uncertainty(new)
    expected = np.vstack([positive_proba(f, new) for f in fits])
    assert prob == pytest.approx(expected[0], abs=1e-9)
    assert spread == pytest.approx(expected[1:].std(axis=0), abs=1e-9)
    assert model.probability(new) == pytest.approx(expected[0], abs=1e-9)
    restored = pickle.loads(pickle.dumps(model))
    assert "_compiled_with_folds" not in restored.__dict__
    assert restored.predict_with_uncertainty(new)[0] == pytest.approx(prob, abs=1e-12)
