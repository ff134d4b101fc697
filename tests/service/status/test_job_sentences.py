"""One sentence per job run, from the real job reports as the job runner records them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.features import FeaturesReport
from jobs.publish import PublishReport
from jobs.score import ScoreReport
from jobs.sync import SyncReport
from jobs.train import TrainReport
from service.job_sentences import RunRecord, sentence
from service.jobrunner import report_counts

AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _ok(job: str, report: object) -> RunRecord:
    return RunRecord(job, "ok", AT, AT, report_counts(report), None)


@pytest.mark.parametrize(
    ("job", "report", "said"),
    [
        ("sync", SyncReport(new_tracks=3, new_likes=1, spotify_calls=9),
         "sync: 3 new tracks, 1 new like"),
        ("sync", SyncReport(spotify_calls=2, playlists_unchanged=4), "sync: nothing new"),
        ("sync", SyncReport(albums_read=40, albums_pending=1200, retracted_likes=1),
         "sync: 1 like taken back, 40 albums read (1,200 still to read)"),
        ("features", FeaturesReport(stored={"metadata": 12}), "features: new tracks described"),
        ("features", FeaturesReport(), "features: no new tracks to describe"),
        ("train", TrainReport(status="trained", n_ratings=40, promoted=True, outcome="first",
                              new_score=0.8312),
         "train: model in use (ROC AUC 0.83, learned from 40 ratings)"),
        ("train", TrainReport(status="trained", n_ratings=40, promoted=True, outcome="better"),
         "train: a better model is in use (learned from 40 ratings)"),
        ("train", TrainReport(status="trained", n_ratings=40, promoted=True, outcome="tie",
                              new_score=0.8),
         "train: model renewed, as good as the last (ROC AUC 0.80, learned from 40 ratings)"),
        ("train", TrainReport(status="trained", n_ratings=40, promoted=False, outcome="worse"),
         "train: the model in use scored better and stays, refit on all 40 ratings"),
        ("train", TrainReport(status="coldstart", n_ratings=6),
         "train: 6 ratings so far; ranking by similarity to your likes until there are enough "
         "ratings"),
        ("score", ScoreReport(status="scored", scored=1077), "score: 1,077 tracks scored"),
        ("score", ScoreReport(status="no_model"), "score: no model to score with yet"),
        ("publish", PublishReport(published=20), "publish: playlist unchanged"),
        ("publish", PublishReport(published=20, rewritten=True),
         "publish: playlist updated (20 tracks)"),
        ("publish", PublishReport(published=1, rewritten=True, created=True),
         "publish: playlist created (1 track)"),
        ("publish", PublishReport(published=20, removals=["a", "b"]),
         "publish: playlist unchanged; 2 tracks you took out now count as low ratings"),
    ],
)  # fmt: skip
def test_a_run_reads_as_one_sentence(job: str, report: object, said: str) -> None:
    assert sentence(_ok(job, report)) == said


def test_a_failure_says_why_in_one_line() -> None:
    error = "Spotify answered 503 on PUT /playlists/{id}/items\nTraceback (most recent call last):"
    run = RunRecord("publish", "failed", AT, AT, {}, error)
    assert sentence(run) == "publish: failed - Spotify answered 503 on PUT /playlists/{id}/items"
    long = RunRecord("train", "failed", AT, AT, {}, "x" * 500)
    assert len(sentence(long)) < 200 and sentence(long).endswith("…")


def test_a_skip_says_why_and_an_unknown_job_still_reads() -> None:
    skipped = RunRecord("sync", "skipped", AT, AT, {}, "Spotify asked bachbot to wait until 10:00")
    assert sentence(skipped) == "sync: skipped - Spotify asked bachbot to wait until 10:00"
    assert sentence(RunRecord("replay", "ok", AT, AT, {"rows": 3}, None)) == "replay: done"
    assert sentence(RunRecord("sync", "running", AT, None, {}, None)) == "sync: running"


def test_an_old_record_without_counts_reads_as_nothing_new() -> None:
    assert sentence(RunRecord("sync", "ok", AT, AT, {}, None)) == "sync: nothing new"
