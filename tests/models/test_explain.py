"""Explanations name what moved a score, in words, with the right direction."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline

from models.explain import (
    Explainer,
    shapley_attribution,
    shapley_effects,
    taste_effects,
)
from models.explain_words import RatedTracks, TrackFacts, feature_groups
from models.matrix import feature_schema
from models.pipeline import MedianImputer, SkewAwareScaler, TasteModel

COLUMNS = feature_schema().columns
TEMPO = COLUMNS.index("audio.tempo")
NO_FACTS = TrackFacts(work=None, bwv=None, performers={})


def _catalogue(n: int, seed: int) -> np.ndarray:
    """Tracks with every audio descriptor and metadata column filled at random."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(COLUMNS)))
    for j, column in enumerate(COLUMNS):
        if any(part in column for part in (".group.", ".form.", ".instr.", ".album_type.")):
            X[:, j] = rng.random(n) < 0.2
    X[:, TEMPO] = rng.uniform(50, 170, size=n)
    return X


def _tempo_model(estimator: object) -> TasteModel:
    """A model whose only lesson is "slow is loved": the labels depend on tempo alone."""
    X = _catalogue(1500, seed=1)
    chance = 1.0 / (1.0 + np.exp((X[:, TEMPO] - 110.0) / 12.0))
    y = (np.random.default_rng(0).random(len(X)) < chance).astype(int)
    final = make_pipeline(MedianImputer(), SkewAwareScaler(), estimator).fit(X, y)
    return TasteModel(name="t", kind="t", config={}, final=final, columns=COLUMNS)


def _rated(X: np.ndarray) -> RatedTracks:
    loved = X[:, TEMPO] < 100
    return RatedTracks(
        ids=tuple(f"r{i}" for i in range(len(X))),
        names=tuple(f"rated {i}" for i in range(len(X))),
        ratings=np.where(loved, 8.0, 2.0),
        X=X,
        loved=loved,
        works=(None,) * len(X),
        performers=(frozenset(),) * len(X),
    )


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(max_iter=2000),
        MLPClassifier((8,), alpha=3.0, max_iter=2000, random_state=0),
    ],
    ids=["logreg", "mlp"],
)
def test_top_reason_names_tempo_with_its_direction(estimator: object) -> None:
    model = _tempo_model(estimator)
    sample = _catalogue(300, seed=2)
    explainer = Explainer.build(model, columns=COLUMNS, sample=sample, rated=_rated(sample[:40]))
    tracks = _catalogue(2, seed=3)
    tracks[0, TEMPO], tracks[1, TEMPO] = 58.0, 160.0
    slow, fast = explainer.explain(tracks, [NO_FACTS, NO_FACTS])
    assert slow.reasons[0].feature == "tempo"
    assert slow.reasons[0].text == "slow tempo (58 BPM)"
    # The size depends on where the reference (the median candidate) sits on the model's
    # tempo curve; the claim is the name and the direction, by a clear margin.
    assert slow.reasons[0].effect > 0.1, slow
    assert fast.reasons[0].feature == "tempo"
    assert fast.reasons[0].text == "fast tempo (160 BPM)"
    assert fast.reasons[0].effect < -0.1, fast
    assert len(slow.reasons) == 3
    assert slow.gaps is False  # every column known: the average candidate as it is
    assert abs(slow.reasons[1].effect) < abs(slow.reasons[0].effect) / 3


def test_neighbours_are_the_closest_rated_tracks_with_their_ratings() -> None:
    model = _tempo_model(LogisticRegression(max_iter=2000))
    sample = _catalogue(300, seed=2)
    rated = _rated(sample[:40])
    explainer = Explainer.build(model, columns=COLUMNS, sample=sample, rated=rated)
    twin = sample[7:8].copy()
    (explained,) = explainer.explain(twin, [NO_FACTS])
    first = explained.neighbours[0]
    assert first.track_id == "r7"
    assert first.similarity == pytest.approx(1.0)
    assert first.rating == rated.ratings[7]
    assert len(explained.neighbours) == 3
    assert explained.neighbours[1].similarity < 1.0


def test_a_track_without_audio_descriptors_says_so() -> None:
    model = _tempo_model(LogisticRegression(max_iter=2000))
    sample = _catalogue(300, seed=2)
    explainer = Explainer.build(model, columns=COLUMNS, sample=sample, rated=_rated(sample[:5]))
    track = _catalogue(1, seed=4)
    track[0, [j for j, c in enumerate(COLUMNS) if c.startswith("audio.")]] = np.nan
    (explained,) = explainer.explain(track, [NO_FACTS])
    assert explained.audio is False
    assert "no audio descriptors" in explained.to_dict()["note"]
    # Its effects are measured from the average candidate without audio too, and say so.
    assert explained.to_dict()["average_without_gaps"] is True
    assert all(r.feature != "tempo" for r in explained.reasons)


def test_bisected_pairs_come_within_two_points_of_full_path_shapley_values() -> None:
    model = _tempo_model(LogisticRegression(max_iter=2000))
    sample = _catalogue(300, seed=2)
    explainer = Explainer.build(model, columns=COLUMNS, sample=sample, rated=_rated(sample[:5]))
    x = _catalogue(1, seed=5)
    x[0, TEMPO] = 70.0
    groups = feature_groups(COLUMNS)
    found = shapley_attribution(explainer.probability, x, explainer.reference.row, groups)
    full = shapley_effects(
        explainer.probability, x[0], explainer.reference.row, groups, permutations=64
    )
    assert int(np.argmax(np.abs(found.effects[0]))) == int(np.argmax(np.abs(full)))
    # Logistic regression is additive in the log-odds, not in probability, so one
    # antithetic pair is not exact; within two points of 64 full paths it is.
    assert found.effects[0] == pytest.approx(full, abs=0.02)
    # The effects share out exactly the difference from the average candidate.
    assert found.effects[0].sum() == pytest.approx(found.probability[0] - found.start[0], abs=1e-3)


class _TwoOfThree:
    """A saturated model: 0.95 when at least two of slow, minor, harpsichord hold, else 0.05.

    Flat everywhere but at the boundary, like the study's logistic (2, 2) MLP at
    its ceiling: taking any one of the three away from a track that has all
    three changes nothing, so only effects that share the jump can name them.
    """

    classes_ = np.array([0, 1])

    def __init__(self) -> None:
        self.tempo, self.mode = TEMPO, COLUMNS.index("audio.mode")
        self.harpsichord = COLUMNS.index("metadata.instr.harpsichord")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        votes = (
            (X[:, self.tempo] < 90).astype(int)
            + (X[:, self.mode] < 0.5)
            + (X[:, self.harpsichord] > 0.5)
        )
        loved = np.where(votes >= 2, 0.95, 0.05)
        return np.column_stack([1 - loved, loved])


def test_a_saturated_model_still_gets_three_reasons() -> None:
    model = TasteModel(name="s", kind="s", config={}, final=_TwoOfThree(), columns=COLUMNS)
    sample = _catalogue(300, seed=2)
    sample[:, _TwoOfThree().mode] = 1.0  # the average candidate: major, no harpsichord
    sample[:, _TwoOfThree().harpsichord] = 0.0
    explainer = Explainer.build(model, columns=COLUMNS, sample=sample, rated=_rated(sample[:5]))
    track = _catalogue(1, seed=6)
    track[0, TEMPO], track[0, _TwoOfThree().mode] = 62.0, 0.0
    track[0, _TwoOfThree().harpsichord] = 1.0
    (explained,) = explainer.explain(track, [NO_FACTS])
    named = {r.feature: r for r in explained.reasons}
    assert set(named) == {"tempo", "mode", "instrument.harpsichord"}, explained
    assert named["tempo"].text == "slow tempo (62 BPM)"
    assert named["mode"].text == "minor key"
    assert named["instrument.harpsichord"].text == "harpsichord"
    # By symmetry each holds a third of the 90-point jump; sampled orders come close.
    assert all(0.15 < r.effect < 0.45 for r in explained.reasons), explained
    assert sum(r.effect for r in explained.reasons) == pytest.approx(0.9, abs=1e-6)


def test_taste_says_slow_tempo_raises_the_chance() -> None:
    model = _tempo_model(LogisticRegression(max_iter=2000))
    sample = _catalogue(300, seed=2)
    explainer = Explainer.build(model, columns=COLUMNS, sample=sample, rated=_rated(sample[:5]))
    taste = taste_effects(explainer.probability, sample, explainer.reference, explainer.groups)
    assert taste[0].feature == "tempo"
    assert taste[0].text == "slow tempo"
    assert taste[0].versus == "fast tempo"
    assert taste[0].effect > 0.5


def test_performer_reason_names_only_the_performer_the_listener_loved() -> None:
    from models.explain_words import Context, word_reason

    groups = {g.name: g for g in feature_groups(COLUMNS)}
    rated = RatedTracks(
        ids=("r1", "r2"), names=("a", "b"), ratings=np.array([9.0, 2.0]),
        X=np.zeros((2, len(COLUMNS))), loved=np.array([True, False]), works=("988", "147"),
        performers=(frozenset({"p-hewitt"}), frozenset({"p-choir"})),
    )  # fmt: skip
    facts = TrackFacts(
        work="988", bwv="988", performers={"p-hewitt": "Angela Hewitt", "p-new": "Someone New"}
    )
    row = np.zeros(len(COLUMNS))
    context = Context(row=row, reference=row, facts=facts, rated=rated)
    assert word_reason(groups["performer"], 0.1, context) == "performer you liked: Angela Hewitt"
    assert word_reason(groups["performer"], -0.1, context) == (
        "performer: Angela Hewitt, Someone New"
    )
    assert word_reason(groups["work"], 0.1, context) == (
        "same work as a recording you loved: BWV 988"
    )


def test_a_saturated_models_taste_names_its_three_features_with_their_direction() -> None:
    """The average candidate sits on the model's floor, where moving it alone changes nothing."""
    model = TasteModel(name="s", kind="s", config={}, final=_TwoOfThree(), columns=COLUMNS)
    sample = _catalogue(400, seed=2)
    rng = np.random.default_rng(7)
    sample[:, _TwoOfThree().mode] = rng.random(len(sample)) < 0.7  # mostly major
    explainer = Explainer.build(model, columns=COLUMNS, sample=sample, rated=_rated(sample[:5]))
    items = taste_effects(explainer.probability, sample, explainer.reference, explainer.groups)
    taste = {t.feature: t for t in items}
    assert taste["tempo"].text == "slow tempo" and taste["tempo"].effect > 0.1
    assert taste["mode"].text == "minor key" and taste["mode"].effect > 0.1
    assert taste["instrument.harpsichord"].effect > 0.1
    assert set(list(taste)[:3]) == {"tempo", "mode", "instrument.harpsichord"}
