"""`bachbot explain TRACK [--json]` after a real train and score: what a listener reads."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy import null, select, update
from sqlalchemy.orm import Session, sessionmaker

import jobs.explain
from jobs.score import score_tracks
from jobs.train import train_and_register
from service.settings import Settings
from service.store.ratings import effective_ratings
from service.store.tables import Prediction, Publication
from tests.jobs.test_train_score import add_tracks

Cli = Callable[..., tuple[int, str, str]]
PREFIX = "ExplainMe0000000000"[:18]
"""Track ids of 22 letters and digits, as Spotify's (the CLI refuses anything else)."""


@pytest.fixture
def scored(sessions: sessionmaker[Session], settings: Settings) -> list[str]:
    quick = settings.model_copy(update={"cv_splits": 3, "cv_repeats": 1, "train_jobs": 1})
    with sessions() as session:
        ids = add_tracks(session, 60, rated=40, prefix=PREFIX)
        assert train_and_register(session=session, settings=quick, fast=True).promoted
        assert score_tracks(session=session, settings=quick).scored == 20
        session.commit()
    return ids


def test_every_scored_track_is_explained_when_it_is_scored(
    sessions: sessionmaker[Session], scored: list[str]
) -> None:
    with sessions() as session:
        predictions = session.scalars(select(Prediction)).all()
    assert len(predictions) == 20
    for p in predictions:
        assert p.explanation is not None
        assert len(p.explanation["reasons"]) == 3 and len(p.explanation["neighbours"]) == 3


def test_explain_json_has_score_interval_neighbours_and_reasons(
    cli: Cli, sessions: sessionmaker[Session], scored: list[str]
) -> None:
    code, out, err = cli("explain", f"spotify:track:{scored[45]}", "--json")
    assert (code, err) == (0, "")
    view = json.loads(out)
    low, high = view["interval"]
    assert 0 <= low <= view["score"] <= high <= 1
    with sessions() as session:
        ratings = effective_ratings(session=session)
    assert len(view["neighbours"]) == 3
    for n in view["neighbours"]:
        assert set(n) == {"track_id", "name", "rating", "similarity"}
        assert n["rating"] == ratings[n["track_id"]] and 0 < n["similarity"] <= 1
    assert len(view["reasons"]) == 3
    assert all(set(r) == {"feature", "text", "effect"} for r in view["reasons"])
    sizes = [abs(r["effect"]) for r in view["reasons"]]
    assert sizes == sorted(sizes, reverse=True)
    assert view["providers"] == {"audio": ["spotify_audio"]}


def test_explain_prints_reasons_and_neighbours_in_words(cli: Cli, scored: list[str]) -> None:
    code, out, _ = cli("explain", f"https://open.spotify.com/track/{scored[50]}")
    assert code == 0
    assert "likely to be loved, between" in out
    assert re.search(r"The average candidate scores \d+%; what moved this track away from it:", out)
    assert len(re.findall(r"^  \S.* (raised|lowered) it [\d.]+ pts$", out, re.MULTILINE)) == 3
    assert out.count(f"/10  Prelude {PREFIX}") == 3
    assert "Descriptors used: audio: spotify_audio" in out


CANNOT = [
    ("https://open.spotify.com/album/4uLU6hMCjMI75M1A2tKUQC", 2, "is not a track id"),
    ("not a link", 2, "is not a track id"),
    ("4uLU6hMCjMI75M1A2tKUQC", 1, "no track '4uLU6hMCjMI75M1A2tKUQC' in the database"),
    (f"{PREFIX}0003", 1, "is rated"),
]


def test_explain_says_why_it_cannot(cli: Cli, scored: list[str]) -> None:
    """One trained database for every case (training is the slow part)."""
    for ref, code, said in CANNOT:
        got, out, err = cli("explain", ref)
        assert got == code and out == "", ref
        assert err.startswith("bachbot: ") and said in err and err.count("\n") == 1, err


def test_predictions_without_an_explanation_are_explained_once_not_rescored(
    sessions: sessionmaker[Session], settings: Settings, scored: list[str]
) -> None:
    quick = settings.model_copy(update={"cv_splits": 3, "cv_repeats": 1, "train_jobs": 1})
    with sessions() as session:
        assert score_tracks(session=session, settings=quick).scored == 0  # nothing to redo
        old = [f"{PREFIX}0041", f"{PREFIX}0042"]
        session.execute(  # as migrations 0006 and 0008 leave the rows scored before them
            update(Prediction).where(Prediction.track_id.in_(old)).values(explanation=null())
        )
        report = score_tracks(session=session, settings=quick)
        assert (report.scored, report.explained) == (0, 2)
        assert score_tracks(session=session, settings=quick).explained == 0
        explained = session.scalars(select(Prediction).where(Prediction.track_id.in_(old))).all()
        assert all(p.explanation and len(p.explanation["reasons"]) == 3 for p in explained)


def _unexplain_all(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.execute(update(Prediction).values(explanation=null()))
        session.commit()


def _by_score(sessions: sessionmaker[Session]) -> list[Prediction]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Prediction).order_by(Prediction.score.desc(), Prediction.track_id)
            )
        )


def test_score_explains_the_best_scored_and_the_published_and_explain_does_the_rest(
    cli: Cli,
    sessions: sessionmaker[Session],
    settings: Settings,
    scored: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 500,000 tracks explaining every prediction would take minutes nobody reads."""
    monkeypatch.setattr(jobs.explain, "EXPLAINED_TOP", 5)
    _unexplain_all(sessions)
    ranked = _by_score(sessions)
    shown = ranked[-1].track_id  # the worst-scored, yet on a playlist
    with sessions() as session:
        session.add(Publication(playlist_id="p", track_ids=[shown], model_version="v"))
        session.commit()
    quick = settings.model_copy(update={"cv_splits": 3, "cv_repeats": 1, "train_jobs": 1})
    with sessions() as session:
        assert score_tracks(session=session, settings=quick).explained == 6
        session.commit()
    after = {p.track_id: p.explanation for p in _by_score(sessions)}
    assert [t.track_id for t in ranked if after[t.track_id]] == [
        *(t.track_id for t in ranked[:5]),
        shown,
    ]
    asked = ranked[10].track_id
    code, out, err = cli("explain", asked)
    assert (code, err) == (0, "")
    assert len(re.findall(r" (raised|lowered) it [\d.]+ pts$", out, re.MULTILINE)) == 3
    with sessions() as session:  # stored: the next look is instant, the page can show it
        stored = session.scalars(select(Prediction).where(Prediction.track_id == asked)).one()
        assert stored.explanation is not None and len(stored.explanation["reasons"]) == 3


def test_a_track_scored_as_the_average_candidate_is_told_so_in_one_line() -> None:
    from service.cli.explain import render_explanation

    view = {
        "track_id": f"{PREFIX}0001", "name": "Fugue", "score": 0.21, "interval": None,
        "model_version": "v", "explained": True, "average_candidate": 0.2104,
        "average_without_gaps": True, "reasons": [], "neighbours": [], "providers": {},
    }  # fmt: skip
    text = render_explanation(view)
    assert (
        "It scores as the average candidate (with the descriptors this track lacks left out "
        "too) does (21%): no feature moves it by half a point or more." in text
    )
    assert "what moved" not in text
