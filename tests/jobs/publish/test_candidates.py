"""Publish's ranked streams of predictions: right order, read through their indexes."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from jobs import candidates
from jobs.candidates import CandidateSource
from jobs.playlist_plan import UCB_Z, Candidate, teaching_shortlist, upside_rank
from service.store.tables import UPSIDE_SQL, UPSIDE_Z, ModelVersion, Prediction, Track, utcnow


def add_predictions(session: Session, scores: dict[str, tuple[float, float | None]]) -> int:
    model = ModelVersion(version="v1", kind="mlp", params={}, metrics={}, feature_schema={},
                         n_ratings=30, promoted=True, created_at=utcnow())  # fmt: skip
    session.add(model)
    session.flush()
    for track_id, (score, spread) in scores.items():
        session.add(Track(id=track_id, name=f"Air {track_id}", is_bach=True))
        session.flush()
        session.add(Prediction(track_id=track_id, model_version_id=model.id, score=score,
                               uncertainty=spread, created_at=utcnow()))  # fmt: skip
    session.flush()
    return model.id


def test_the_stored_upside_is_the_plans_upside() -> None:
    assert UCB_Z == UPSIDE_Z
    assert f"score + {UPSIDE_Z} * coalesce(uncertainty, 0.0)" == UPSIDE_SQL


def test_by_upside_gives_the_plans_upside_order(session: Session) -> None:
    scores = {"a": (0.9, 0.0), "b": (0.5, 0.3), "c": (0.7, None), "d": (0.6, 0.2), "e": (0.5, 0.3)}
    model_id = add_predictions(session, scores)

    ranked = list(CandidateSource(session, model_id, []).by_upside())

    assert [c.track_id for c in ranked] == [c.track_id for c in sorted(ranked, key=upside_rank)]
    assert [c.track_id for c in ranked] == ["b", "e", "d", "a", "c"]


def test_by_upside_reads_its_index_instead_of_sorting(session: Session) -> None:
    model_id = add_predictions(session, {f"t{i}": (i / 100, 0.01 * (i % 7)) for i in range(60)})
    query = CandidateSource(session, model_id, []).upside_order().limit(1000)
    sql = str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    if session.get_bind().dialect.name == "sqlite":
        plan = " ".join(str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert "ix_predictions_model_upside" in plan
        assert "TEMP B-TREE" not in plan
    else:
        # a table this small is sorted whatever the indexes; with sorting priced out the
        # planner sorts only if the index does not hold the ORDER BY's expression
        session.execute(text("SET LOCAL enable_sort = off"))
        plan = " ".join(row[0] for row in session.execute(text(f"EXPLAIN {sql}")))
        assert "ix_predictions_model_upside" in plan
        assert "Sort" not in plan


@pytest.mark.parametrize("upside", [None, 0.2])
def test_an_unknown_spread_counts_as_none(session: Session, upside: float | None) -> None:
    model_id = add_predictions(session, {"x": (0.4, upside), "y": (0.5, None)})
    ranked = [c.track_id for c in CandidateSource(session, model_id, []).by_upside()]
    assert ranked == (["y", "x"] if upside is None else ["x", "y"])


def test_the_blockwise_teaching_shortlist_is_the_plain_one(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut block by block with a numpy bound, the shortlist is the one a heap over every
    candidate gives: same tracks, same order, excluded ones left out, ties by id."""
    rng = random.Random(4)
    scores: dict[str, tuple[float, float | None]] = {}
    for i in range(900):
        if i < 260:  # most of the shortlist, stored (and so read, as a rule) in the first block
            tie = i % 20 == 0  # a few exact ties of teaching value
            score = 0.25 if tie else 0.3 + 0.4 * rng.random()
            scores[f"t{i:04d}"] = (score, None if tie else rng.random() / 5)
        else:
            scores[f"t{i:04d}"] = (0.97 + 0.03 * rng.random(), rng.choice([None, 0.01]))
    model_id = add_predictions(session, scores)
    excluded = {f"t{i:04d}" for i in range(0, 900, 7)}
    monkeypatch.setattr(candidates, "LIGHT_BLOCK", 250)  # four blocks, each cut to 200

    source = CandidateSource(session, model_id, [])
    found = source.teaching_shortlist(excluded=excluded, size=2)

    everything = [Candidate(t, s, u) for t, (s, u) in scores.items()]
    expected = teaching_shortlist(everything, excluded=excluded, size=2)
    assert len(expected) == 200 and not excluded & {c.track_id for c in found}
    assert [c.track_id for c in found] == [c.track_id for c in expected]
    assert sorted(source.open_ids(excluded)) == sorted(set(scores) - excluded)
