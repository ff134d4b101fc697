"""train and score jobs on real database rows (SQLite or PostgreSQL per BACHBOT_TEST_DB)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from jobs.score import score_tracks
from jobs.train import train_and_register
from jobs.training_data import load_training_data
from models.features.spotify_audio import SpotifyAudioProvider
from service.settings import Settings
from service.store.app_state import SCORE_CHECKED
from service.store.features import save_features
from service.store.ratings import add_like, add_rating, retract_like
from service.store.tables import ModelVersion, Prediction, Track, utcnow


@pytest.fixture
def quick_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"cv_splits": 3, "cv_repeats": 1, "train_jobs": 1})


def add_tracks(
    session: Session,
    n: int,
    *,
    rated: int,
    seed: int = 0,
    source: str = "explicit",
    prefix: str = "track",
) -> list[str]:
    """n Bach tracks with audio features; the first ``rated`` get a taste-driven rating.

    About half of the rated ones are loved (rating >= 7): the rating follows valence
    and mode, so a model can learn it.
    """
    rng = np.random.default_rng(seed)
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    values: dict[str, dict[str, float | None]] = {}
    for track_id in ids:
        session.add(Track(id=track_id, name=f"Prelude {track_id}, BWV 846", is_bach=True))
        values[track_id] = {
            "valence": float(rng.uniform()),
            "energy": float(rng.uniform()),
            "tempo": float(rng.normal(110, 20)),
            "mode": float(rng.integers(0, 2)),
        }
    session.flush()
    save_features(
        session=session,
        provider=SpotifyAudioProvider.name,
        schema_version=SpotifyAudioProvider.schema_version,
        values=values,
    )
    for track_id in ids[:rated]:
        v = {k: float(x or 0.0) for k, x in values[track_id].items()}
        rating = 8 if source == "like" else round(2 + 7 * v["valence"] + 1.5 * v["mode"])
        add_rating(session=session, track_id=track_id, value=max(1, min(10, rating)), source=source)
    session.flush()
    return ids


def test_training_data_comes_from_effective_ratings_and_the_feature_matrix(
    session: Session,
) -> None:
    add_tracks(session, 10, rated=6)
    data = load_training_data(session=session, settings=Settings(_env_file=None))  # type: ignore[call-arg]
    assert len(data.track_ids) == 6 and data.X.shape[0] == 6
    assert np.isfinite(data.X).any(axis=0).sum() == 4  # the four stored audio columns
    assert data.labels.explicit is not None and data.labels.explicit.all()
    ratings = data.labels.ratings
    assert ratings is not None
    np.testing.assert_array_equal(data.labels.loved, (ratings >= 7).astype(int))


def test_trained_model_is_promoted_and_scores_every_unrated_track(
    session: Session, quick_settings: Settings
) -> None:
    add_tracks(session, 60, rated=40)
    report = train_and_register(session=session, settings=quick_settings, fast=True)
    assert report.status == "trained" and report.promoted, report.decision
    assert "mlp" in report.table and "hgb" in report.table
    row = session.scalars(select(ModelVersion)).one()
    assert row.promoted and row.kind == "mlp" and row.sha256 and row.n_ratings == 40
    assert row.metrics["metric"] == "roc_auc" and 0.5 < row.metrics["score"] <= 1
    assert "candidates" in row.metrics and row.params["config"]["family"] == "mlp"
    assert Path(row.artifact_path or "").exists()

    scored = score_tracks(session=session, settings=quick_settings)
    assert scored.status == "scored" and scored.scored == 20
    predictions = session.scalars(select(Prediction)).all()
    assert {p.track_id for p in predictions} == {f"track{i:04d}" for i in range(40, 60)}
    assert all(0 <= p.score <= 1 for p in predictions)  # a probability of love
    assert all(p.uncertainty is not None and p.uncertainty >= 0 for p in predictions)


def test_retraining_on_the_same_data_says_same_configuration_and_promotes_the_newer_model(
    session: Session, quick_settings: Settings
) -> None:
    """The same configuration chosen again is not "tied within a margin of 0.000": it is the
    same model refit, promoted without a second cross-validation."""
    add_tracks(session, 40, rated=30)
    first = train_and_register(session=session, settings=quick_settings, fast=True)
    second = train_and_register(session=session, settings=quick_settings, fast=True)
    assert second.promoted and second.outcome == "same", second.decision
    assert second.diff is None and "same configuration" in second.decision
    assert "margin" not in second.decision
    promoted = session.scalars(select(ModelVersion).where(ModelVersion.promoted)).all()
    assert [p.version for p in promoted] == [second.version] != [first.version]


def test_a_model_in_use_that_wins_on_the_same_folds_is_refit_and_kept(
    session: Session, quick_settings: Settings
) -> None:
    """When the configuration in use is better, it stays, but learns today's ratings."""
    ids = add_tracks(session, 60, rated=30)
    train_and_register(session=session, settings=quick_settings, fast=True)
    current = session.scalars(select(ModelVersion)).one()
    current.params = {**current.params, "config": {"family": "logreg", "params": {"C": 1.0}}}
    current.n_ratings = 1000  # a tie then favours the model in use
    for track_id in ids[30:40]:
        add_rating(session=session, track_id=track_id, value=2, source="removal")
    session.flush()
    report = train_and_register(session=session, settings=quick_settings, fast=True)
    promoted = session.scalars(select(ModelVersion).where(ModelVersion.promoted)).one()
    # logistic regression fits this taste as well as the MLP does
    assert report.outcome in {"tie", "worse"}, report.decision
    assert promoted.params["config"] == {"family": "logreg", "params": {"C": 1.0}}
    assert promoted.n_ratings == 40 and "refit on all 40 ratings" in (promoted.decision or "")
    assert promoted.version != current.version and promoted.kind == "logreg"


def test_below_min_ratings_the_cold_start_fallback_is_recorded_and_scores(
    session: Session, quick_settings: Settings
) -> None:
    add_tracks(session, 20, rated=5)
    report = train_and_register(session=session, settings=quick_settings)
    assert report.status == "coldstart" and report.promoted
    assert "fewer than the 15 needed" in report.decision
    row = session.scalars(select(ModelVersion)).one()
    assert row.kind == "coldstart"
    scored = score_tracks(session=session, settings=quick_settings)
    assert scored.kind == "coldstart" and scored.scored == 15


def test_likes_only_never_give_a_constant_score(session: Session, quick_settings: Settings) -> None:
    """18 likes and nothing else once promoted an MLP scoring every track 8.000."""
    add_tracks(session, 60, rated=18, source="like")
    report = train_and_register(session=session, settings=quick_settings)
    assert report.status == "coldstart" and "only likes so far" in report.decision
    score_tracks(session=session, settings=quick_settings)
    scores = [p.score for p in session.scalars(select(Prediction))]
    assert len(scores) == 42 and np.ptp(scores) > 0.05


def test_a_tampered_promoted_model_is_demoted_and_asks_for_a_retrain(
    session: Session, quick_settings: Settings
) -> None:
    add_tracks(session, 20, rated=5)
    train_and_register(session=session, settings=quick_settings)
    row = session.scalars(select(ModelVersion)).one()
    path = Path(row.artifact_path or "")
    path.write_bytes(path.read_bytes() + b"tampered")
    report = score_tracks(session=session, settings=quick_settings)
    assert report.status == "model_refused" and "sha256" in report.message
    assert not row.promoted
    assert session.scalars(select(Prediction)).all() == []


def test_no_ratings_trains_nothing(session: Session, quick_settings: Settings) -> None:
    add_tracks(session, 5, rated=0)
    assert train_and_register(session=session, settings=quick_settings).status == "skipped"
    assert score_tracks(session=session, settings=quick_settings).status == "no_model"


def test_only_new_and_re_described_tracks_are_scored_again(
    session: Session, quick_settings: Settings
) -> None:
    ids = add_tracks(session, 60, rated=40)
    train_and_register(session=session, settings=quick_settings, fast=True)
    assert score_tracks(session=session, settings=quick_settings).scored == 20
    assert score_tracks(session=session, settings=quick_settings).scored == 0  # a quiet cycle

    before = session.scalars(select(Prediction).where(Prediction.track_id == ids[45])).one().id
    later = max(p.created_at for p in session.scalars(select(Prediction))) + timedelta(minutes=1)
    save_features(
        session=session,
        provider=SpotifyAudioProvider.name,
        schema_version=SpotifyAudioProvider.schema_version,
        values={ids[45]: {"valence": 0.9, "energy": 0.1, "tempo": 60.0, "mode": 1.0}},
        fetched_at=later,
    )
    session.add(Track(id="track-new", name="Sarabande, BWV 1007", is_bach=True))
    session.flush()

    again = score_tracks(session=session, settings=quick_settings)

    assert again.scored == 2  # the re-described track and the new one, not all 21
    rescored = session.scalars(select(Prediction).where(Prediction.track_id == ids[45])).one()
    assert rescored.id != before  # written again, not kept


def test_a_quiet_cycle_looks_only_at_tracks_changed_since_the_last_run(
    session: Session, quick_settings: Settings
) -> None:
    ids = add_tracks(session, 60, rated=40)
    session.add(Track(id="track-liked", name="Gigue, BWV 1007", is_bach=True))
    session.flush()
    add_like(session=session, track_id="track-liked", value=8, added_at=utcnow())
    train_and_register(session=session, settings=quick_settings, fast=True)
    assert score_tracks(session=session, settings=quick_settings).scored == 20
    session.execute(update(Track).values(updated_at=utcnow() - timedelta(days=1)))
    # a prediction gone from under an old track: only a look at every track would see it
    session.execute(delete(Prediction).where(Prediction.track_id == ids[50]))
    retract_like(session=session, track_id="track-liked")  # open again, the track unchanged

    again = score_tracks(session=session, settings=quick_settings)

    assert again.scored == 1
    scored = set(session.scalars(select(Prediction.track_id)))
    assert "track-liked" in scored and ids[50] not in scored
    SCORE_CHECKED.clear(session)  # as a newly promoted model has no mark
    assert score_tracks(session=session, settings=quick_settings).scored == 1
