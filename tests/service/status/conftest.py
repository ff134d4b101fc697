"""A listener's database a few days in: two publications, models of both score scales, runs.

Written straight into the tables (no Spotify, no training), so the status
page can be checked against known facts: which tracks came and went, what
each job did, which model is in use and how it was scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from jobs.publish import PublishReport
from jobs.score import ScoreReport
from jobs.sync import SyncReport
from jobs.train import TrainReport
from service.jobrunner import report_counts
from service.store.app_state import BOT_PLAYLIST, TASTE, TasteSummary
from service.store.ratings import add_rating
from service.store.tables import (
    JobRun,
    ModelVersion,
    OAuthToken,
    Playlist,
    Prediction,
    Publication,
    Track,
    utcnow,
)

TRACKS = {
    "t01": ("Goldberg Variations, BWV 988: Aria", "Angela Hewitt"),
    "t02": ("Partita No. 2 in C Minor, BWV 826: I. Sinfonia", "Martha Argerich"),
    "t03": ("Cello Suite No. 1 in G Major, BWV 1007: I. Prélude", "Yo-Yo Ma"),
    "t04": ("Das Wohltemperierte Klavier: Book 1, Prelude & Fugue No. 24 in B Minor, "
            "BWV 869 (Arr. for Lute-Harpsichord and Viola da Gamba Consort)",
            "Ensemble Mitteldeutsche Barockmusikfreunde, Konstantinopoulou-Wiedemann"),
    "t05": ("Chaconne from Partita No. 2 in D Minor, BWV 1004", "Hilary Hahn"),
    "t06": ("English Suite No. 3 in G Minor, BWV 808: Sarabande", "Piotr Anderszewski"),
    "t07": ("French Suite No. 5 in G Major, BWV 816: Gigue", "Murray Perahia"),
    "t08": ("Toccata in E Minor, BWV 914", "Glenn Gould"),
    "t09": ("Herz und Mund und Tat und Leben, BWV 147: Jesus bleibet meine Freude", "Choir"),
    "t10": ("Mass in B Minor, BWV 232: Kyrie eleison", "Monteverdi Choir"),
}  # fmt: skip
PREVIOUS = ["t01", "t02", "t03", "t09", "t10"]
LATEST = ["t01", "t04", "t02", "t05", "t03"]
"""Published now: t04 and t05 came in; t09 and t10 (choral, disliked) went out."""
PROBABILITIES = {"t01": 0.93, "t04": 0.87, "t02": 0.81, "t05": 0.74, "t03": 0.66}
SPREAD = 0.06
REASONS = {
    "t01": [("instrument.harpsichord", "harpsichord", 0.12), ("tempo", "slow tempo (62 BPM)", 0.08),
            ("group.cantata", "not a cantata", 0.03)],
    "t04": [("mode", "minor key", 0.09), ("performer", "performer: Ensemble", -0.02)],
    "t02": [("mode", "minor key", 0.07), ("work", "same work as a recording you loved: BWV 826",
                                             0.05)],
    "t05": [("instrument.violin", "violin", -0.04)],
}  # fmt: skip
"""The stored explanations (t03 was scored before bachbot explained its picks)."""
RATED = {"t06": 8, "t07": 9, "t08": 8, "t09": 2, "t10": 2}
"""The listener's ratings: keyboard suites and a toccata loved, the choral works removed."""
TASTE_FEATURES = (
    {"feature": "mode", "text": "minor key", "effect": 0.31, "versus": "major key"},
    {"feature": "instrument.choir", "text": "choir", "effect": -0.22, "versus": None},
    {"feature": "tempo", "text": "slow tempo", "effect": 0.18, "versus": "fast tempo"},
    {"feature": "instrument.harpsichord", "text": "harpsichord", "effect": 0.12, "versus": None},
)


@dataclass(frozen=True)
class Seeded:
    now: datetime
    current_model: str


def _run(job: str, at: datetime, report: object = None, error: str | None = None) -> JobRun:
    return JobRun(
        job=job,
        started_at=at,
        finished_at=at + timedelta(seconds=2),
        status="failed" if error else "ok",
        counts=report_counts(report) if report is not None else {},
        error=error,
    )


def _model(
    session: Session, version: str, at: datetime, metrics: dict[str, object], *, used: bool
) -> ModelVersion:
    row = ModelVersion(
        version=version, kind="mlp", created_at=at, metrics=metrics, n_ratings=40,
        promoted=False, promoted_at=at if used else None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def seed_listener(session: Session, now: datetime) -> Seeded:
    for track_id, (name, artist) in TRACKS.items():
        bwv = re.search(r"BWV (\d+)", name)
        session.add(
            Track(id=track_id, name=name, artists=[{"id": f"a-{track_id}", "name": artist}],
                  is_bach=True, bwv=bwv.group(1) if bwv else None)
        )  # fmt: skip
    day, minute = timedelta(days=1), timedelta(minutes=1)
    _model(session, "v1-r2", now - 6 * day, {"r2": 0.41, "mse": 1.9, "mae": 0.8}, used=True)
    _model(session, "v2", now - 4 * day, {"metric": "roc_auc", "score": 0.71, "mse": 2}, used=True)
    _model(session, "v3", now - 2 * day, {"metric": "roc_auc", "score": 0.69}, used=False)
    current = _model(
        session, "v4", now - timedelta(hours=3),
        {"metric": "roc_auc", "score": 0.84, "mae": 0.33, "cv": "outer=5x2"}, used=True,
    )  # fmt: skip
    current.promoted = True
    for track_id, p in PROBABILITIES.items():
        reasons = [{"feature": f, "text": t, "effect": e} for f, t, e in REASONS.get(track_id, [])]
        near = [{"track_id": "t06", "name": TRACKS["t06"][0], "rating": 8.0, "similarity": 0.8}]
        session.add(
            Prediction(
                track_id=track_id, model_version_id=current.id, score=p, uncertainty=SPREAD,
                explanation={"method": "shapley", "reasons": reasons, "neighbours": near,
                             "audio": True} if track_id in REASONS else None,
            )
        )  # fmt: skip
    for track_id, value in RATED.items():
        add_rating(session=session, track_id=track_id, value=value, source="explicit")
    TASTE.put(session, TasteSummary("v4", TASTE_FEATURES))
    session.add(Publication(playlist_id="pl", snapshot_id="s1", track_ids=PREVIOUS,
                            model_version="v2", created_at=now - 2 * day))  # fmt: skip
    session.add(Publication(playlist_id="pl", snapshot_id="s2", track_ids=LATEST,
                            model_version="v4", created_at=now - 20 * minute))  # fmt: skip
    BOT_PLAYLIST.put(session, "pl")
    session.add(
        OAuthToken(
            token_info={"access_token": "a-secret", "refresh_token": "r-secret",
                        "expires_at": int((now + timedelta(minutes=40)).timestamp())},
            updated_at=now - timedelta(minutes=12),
        )
    )  # fmt: skip
    session.add(
        Playlist(id="other", name="Baroque essentials (curated)", owner_name="A curator",
                 readable=False, unreadable_reason="owned by A curator; ask to collaborate")
    )  # fmt: skip
    cycle = now - timedelta(minutes=21)
    session.add_all([
        _run("publish", cycle - timedelta(hours=1), PublishReport(published=5)),
        _run("sync", cycle, SyncReport(new_tracks=3, new_likes=1, spotify_calls=4)),
        _run("features", cycle + timedelta(seconds=3), None),
        _run("train", cycle + timedelta(seconds=5),
             TrainReport(status="trained", n_ratings=40, promoted=True, decision="x",
                         outcome="better", new_score=0.84)),
        _run("score", cycle + timedelta(seconds=9), ScoreReport(status="scored", scored=1234)),
        _run("publish", cycle + timedelta(seconds=12),
             error="Spotify answered 503 on PUT /playlists/{id}/items after 3 retries\n"
                   "Traceback (most recent call last): ..."),
    ])  # fmt: skip
    session.commit()
    return Seeded(now=now, current_model="v4")


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> Seeded:
    with sessions() as session:
        return seed_listener(session, utcnow())
