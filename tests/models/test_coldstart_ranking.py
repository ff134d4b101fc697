"""With only likes, the cold start still ranks by similarity, never a constant."""

from __future__ import annotations

import numpy as np

from models.coldstart import PRIOR, ColdStartClassifier


def test_only_likes_still_rank_lookalikes_first_and_never_score_a_constant() -> None:
    rng = np.random.default_rng(0)
    liked = rng.normal(loc=3.0, scale=0.3, size=(6, 4))
    model = ColdStartClassifier().fit(liked, np.ones(6, dtype=int))
    near = rng.normal(loc=3.0, scale=0.3, size=(5, 4))
    far = rng.normal(loc=-3.0, scale=0.3, size=(5, 4))
    p = model.predict_proba(np.vstack([near, far]))[:, 1]
    assert p[:5].min() > p[5:].max()
    assert np.ptp(p) > 0.2 and p.min() >= PRIOR - 1e-9
    assert np.all(model.spread(np.vstack([near, far])) > 0)


def test_order_of_rated_ids_decides_nothing() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 3))
    y = np.array([1] * 8 + [0] * 4)
    probe = rng.normal(size=(20, 3))
    order = rng.permutation(12)
    a = ColdStartClassifier().fit(X, y).predict_proba(probe)
    b = ColdStartClassifier().fit(X[order], y[order]).predict_proba(probe)
    np.testing.assert_allclose(a, b)
