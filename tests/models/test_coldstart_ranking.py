"""Cold start with only likes (all ratings equal) must still rank by similarity."""

from __future__ import annotations

import numpy as np

from models.coldstart import fit_coldstart


def test_only_likes_still_rank_lookalikes_first() -> None:
    rng = np.random.default_rng(0)
    liked = rng.normal(loc=3.0, scale=0.3, size=(6, 4))
    model = fit_coldstart(liked, np.full(6, 8.0), columns=("a", "b", "c", "d"))
    near = rng.normal(loc=3.0, scale=0.3, size=(5, 4))
    far = rng.normal(loc=-3.0, scale=0.3, size=(5, 4))
    scores, spread = model.predict_with_uncertainty(np.vstack([near, far]))
    assert scores[:5].min() > scores[5:].max()
    assert np.all(spread > 0)
    assert scores.max() <= 8.0 and scores.min() >= 5.5 - 1e-9
