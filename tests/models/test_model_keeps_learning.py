"""Whatever the gate decides, the model in use has learnt from every current rating."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.train import train_and_register
from models.evaluate import evaluate_fixed, refit_fixed
from models.pipeline import ModelOptions
from service.settings import Settings
from service.store.models import ModelVersion
from service.store.ratings import add_rating
from tests.models.test_jobs import add_tracks


def test_promoted_model_always_covers_every_rating(session: Session, settings: Settings) -> None:
    quick = settings.model_copy(update={"cv_splits": 3, "cv_repeats": 1, "train_jobs": 1})
    ids = add_tracks(session, 80, rated=30)
    train_and_register(session=session, settings=quick, fast=True)
    rng = np.random.default_rng(1)
    for round_ in range(3):
        for track_id in ids[30 + 10 * round_ : 40 + 10 * round_]:
            add_rating(
                session=session, track_id=track_id, value=int(rng.integers(1, 11)),
                source="explicit",
            )  # fmt: skip
        session.flush()
        report = train_and_register(session=session, settings=quick, fast=True)
        promoted = session.scalars(select(ModelVersion).where(ModelVersion.promoted)).one()
        assert promoted.n_ratings == 40 + 10 * round_, report.decision
        assert promoted.sha256


def test_refit_of_a_fixed_configuration_scores_as_evaluated() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = np.clip(np.round(5 + 2 * X[:, 0] + rng.normal(scale=0.5, size=40)), 1, 10)
    options = ModelOptions(seed=0, outer_splits=3, outer_repeats=1, fast=True)
    params = {"kind": "none", "activation": "logistic", "hidden_layer_sizes": [2, 2], "alpha": 0.1}
    model, nested = refit_fixed(
        X, y, name="mlp", params=params, kind="mlp", options=options, columns=tuple("abcde")
    )
    assert nested.r2 == evaluate_fixed(X, y, name="mlp", params=params, options=options).r2
    scores, spread = model.predict_with_uncertainty(X)
    assert scores.shape == (40,) and np.all(np.isfinite(spread))
    assert model.y_range == (float(y.min()), float(y.max()))
