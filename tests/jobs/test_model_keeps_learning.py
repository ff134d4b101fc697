"""Whatever the gate decides, the model in use has learnt from every current rating."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.train import train_and_register
from models.candidates import Config
from models.evaluate import fit_fixed
from models.folds import ungrouped
from service.settings import Settings
from service.store.ratings import add_rating
from service.store.tables import ModelVersion
from tests.jobs.test_train_score import add_tracks
from tests.models.conftest import QUICK, taste_labels


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


def test_refit_of_a_fixed_configuration_gives_probabilities_and_fold_scores() -> None:
    X, labels = taste_labels(60)
    config = Config.of("logreg", C=1.0)
    model, aucs = fit_fixed(
        X, labels, config, name="auto", options=QUICK, columns=tuple("abcdef"),
        grouping=ungrouped(60),
    )  # fmt: skip
    prob, spread = model.predict_with_uncertainty(X)
    assert len(aucs) == QUICK.outer_splits and min(aucs) > 0.7
    assert prob.shape == (60,) and np.all((prob > 0) & (prob < 1)) and np.all(spread >= 0)
    assert model.kind == "logreg" and model.config == config.to_dict()
