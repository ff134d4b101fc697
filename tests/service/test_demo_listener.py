"""The demo's hidden taste: learnable, but not a function of what bachbot can see."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from models.metrics import roc_auc
from service.demo_listener import SLIP_RATE, HiddenTaste, react
from service.demo_world import ListenerWorld

CEILING = 0.92
"""No model on the descriptors can find the loved tracks better than this ROC AUC."""


def _world(seed: int) -> ListenerWorld:
    return ListenerWorld.generate(n_albums=60, seed=seed)


def _everything_audible(world: ListenerWorld) -> tuple[np.ndarray, np.ndarray]:
    """More than bachbot ever sees: every simulated descriptor, each performer's instrument,
    the key's mode and the movement's tempo class, for every track of the catalogue."""
    tracks = list(world.tracks.values())
    taste = world.taste
    roles = sorted(set(taste.roles.values()))
    keys = sorted({k for t in tracks for k in (t.reccobeats or {})})
    rows = []
    for t in tracks:
        descriptors = [(t.reccobeats or {}).get(k, np.nan) for k in keys]
        played = [float(any(taste.roles.get(a) == r for a in t.artist_ids[1:])) for r in roles]
        rows.append([*descriptors, *played, float(" minor" in t.name.lower()),
                     "smf".index(t.tempo_class)])  # fmt: skip
    loved = np.array([taste.loves(t) for t in tracks], dtype=np.int64)
    return np.array(rows, dtype=float), loved


@pytest.mark.parametrize("seed", [0, 2])
def test_the_taste_has_a_ceiling_on_what_can_be_seen(seed: int) -> None:
    world = _world(seed)
    X, loved = _everything_audible(world)
    assert 0.2 < loved.mean() < 0.5  # a realistic share of loved tracks
    # The audible part of the taste itself, known exactly: the best any model can do.
    audible = np.array([world.taste.audible(t) for t in world.tracks.values()])
    exact = roc_auc(loved, audible)
    assert 0.75 < exact <= CEILING, exact
    # A strong model on more than bachbot sees lands at or below that.
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0)
    predicted = cross_val_predict(model, X, loved, cv=folds, method="predict_proba")[:, 1]
    learnt = roc_auc(loved, predicted)
    assert 0.65 < learnt <= CEILING, learnt


def test_favourite_performers_show_only_through_who_plays() -> None:
    world = _world(0)
    taste = world.taste
    with_favourite = [t for t in world.tracks.values() if taste.favourites & set(t.artist_ids)]
    assert with_favourite
    lifted = [taste.score(t) - taste.audible(t) for t in with_favourite]
    others = [taste.score(t) - taste.audible(t) for t in world.tracks.values()
              if t not in with_favourite]  # fmt: skip
    assert np.mean(lifted) > np.mean(others) + 1.0


def test_the_listener_slips_now_and_then() -> None:
    world = _world(0)
    taste = HiddenTaste(world.taste.roles, world.taste.favourites, seed=0)
    ids = sorted(world.tracks)
    slips = [t for t in ids if taste.slips(t)]
    assert abs(len(slips) / len(ids) - SLIP_RATE) < 0.02
    reaction = react(slips, tracks=world.tracks, taste=taste)
    against = [t for t in reaction.like if not taste.loves(world.tracks[t])]
    assert against  # some likes go against the taste
