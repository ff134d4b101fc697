"""One sentence per job run, for a listener: "sync: 3 new tracks, 1 new like".

The job-run record keeps a job's report as flat counts (see
``service.jobrunner.report_counts``: a report dataclass's fields, lists and
dicts as their lengths).  This module is the one reader of those counts for
people; the counts themselves stay machine-readable in ``/metrics`` and
``bachbot status --json``.  A count that is missing (an older record, a
renamed field) reads as zero, so an old record never breaks the page; the
tests feed real job reports through ``report_counts`` so a rename is caught.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from service.model_readout import COLDSTART_TEXT

Counts = Mapping[str, object]

OK, FAILED, SKIPPED, RUNNING = "ok", "failed", "skipped", "running"
"""The statuses ``service.jobrunner`` records."""

REASON_LENGTH = 160


@dataclass(frozen=True)
class RunRecord:
    """One job run as the status shows it (a plain copy of the job_runs row)."""

    job: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: Counts
    error: str | None

    @property
    def failed(self) -> bool:
        return self.status == FAILED


def sentence(run: RunRecord) -> str:
    """What the run did or why it did not, in one line that starts with the job's name."""
    if run.status == FAILED:
        return f"{run.job}: failed - {one_line(run.error) or 'no reason recorded'}"
    if run.status == SKIPPED:
        return f"{run.job}: skipped - {one_line(run.error) or 'nothing to do'}"
    if run.status == RUNNING:
        return f"{run.job}: running"
    describe = _DESCRIBE.get(run.job)
    return f"{run.job}: {describe(run.counts) if describe else 'done'}"


def one_line(text: str | None) -> str:
    """The first line of an error, cut to a readable length."""
    if not text:
        return ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= REASON_LENGTH else first[: REASON_LENGTH - 1] + "…"


def _n(counts: Counts, name: str) -> int:
    value = counts.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _yes(counts: Counts, name: str) -> bool:
    return counts.get(name) is True


def _text(counts: Counts, name: str) -> str:
    value = counts.get(name)
    return value if isinstance(value, str) else ""


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def _sync(c: Counts) -> str:
    parts = []
    if tracks := _n(c, "new_tracks"):
        parts.append(plural(tracks, "new track"))
    if likes := _n(c, "new_likes"):
        parts.append(plural(likes, "new like"))
    if unliked := _n(c, "retracted_likes"):
        parts.append(plural(unliked, "like") + " taken back")
    if heard := _n(c, "exposure_ratings"):
        parts.append(f"{plural(heard, 'track')} heard often but not liked")
    if playlists := _n(c, "playlists_read"):
        parts.append(plural(playlists, "changed playlist") + " read")
    if albums := _n(c, "albums_read"):
        pending = _n(c, "albums_pending")
        parts.append(
            plural(albums, "album") + " read" + (f" ({pending:,} still to read)" if pending else "")
        )
    if refused := _n(c, "newly_unreadable"):
        parts.append(plural(refused, "playlist") + " bachbot may not read")
    return ", ".join(parts) if parts else "nothing new"


def _features(c: Counts) -> str:
    # The record keeps how many sources stored something, not how many tracks.
    said = "new tracks described" if _n(c, "stored") else "no new tracks to describe"
    if c.get("retry_after_s") is not None:
        said += "; a source asked bachbot to wait, the rest follows next time"
    return said


def _train(c: Counts) -> str:
    ratings = plural(_n(c, "n_ratings"), "rating")
    status = _text(c, "status")
    if status == "coldstart":
        return f"{ratings} so far; {COLDSTART_TEXT}"
    if status == "skipped":
        return "no ratings yet, nothing to learn from"
    score = c.get("new_score")
    auc = f"ROC AUC {score:.2f}, " if isinstance(score, int | float) else ""
    outcome = _text(c, "outcome")
    if _yes(c, "promoted"):
        if outcome == "better":
            return f"a better model is in use ({auc}learned from {ratings})"
        if outcome == "tie":
            return f"model renewed, as good as the last ({auc}learned from {ratings})"
        if outcome == "same":
            return f"same kind of model, refit ({auc}learned from {ratings})"
        return f"model in use ({auc}learned from {ratings})"
    return f"the model in use scored better and stays, refit on all {ratings}"


def _score(c: Counts) -> str:
    status = _text(c, "status")
    if status == "no_model":
        return "no model to score with yet"
    if status == "model_refused":
        return "the model in use no longer fits the track descriptions; it will be retrained"
    scored = _n(c, "scored")
    return f"{plural(scored, 'track')} scored" if scored else "no new tracks to score"


def _publish(c: Counts) -> str:
    if _yes(c, "recreated"):
        said = "playlist deleted on Spotify, so created again"
    elif _yes(c, "created"):
        said = "playlist created"
    elif _yes(c, "rewritten"):
        said = "playlist updated"
    else:
        said = "playlist unchanged"
    if _yes(c, "rewritten") or _yes(c, "created") or _yes(c, "recreated"):
        said += f" ({plural(_n(c, 'published'), 'track')})"
    if _yes(c, "to_rate_rewritten"):
        said += f'; "Bach to rate" renewed ({plural(_n(c, "to_rate_published"), "track")})'
    if removals := _n(c, "removals") + _n(c, "to_rate_removals"):
        verb = "counts" if removals == 1 else "count"
        said += f"; {plural(removals, 'track')} you took out now {verb} as low ratings"
    return said


def _freeze(c: Counts) -> str:
    return f"kept a copy of the playlist ({plural(_n(c, 'tracks'), 'track')})"


_DESCRIBE: dict[str, Callable[[Counts], str]] = {
    "sync": _sync,
    "features": _features,
    "train": _train,
    "score": _score,
    "publish": _publish,
    "freeze": _freeze,
}
