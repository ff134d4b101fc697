"""``bachbot status`` in words for a person, and ``bachbot status --json`` for scripts.

The sentences say the same as the status page (:mod:`service.status_page`),
which is built from the same snapshot and the same phrases below.  The JSON
keeps the raw counts (rows per table, each run's counts) that a person does
not need to read but a script or a bug report does.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from models.features.registry import provider_class
from service.job_sentences import RunRecord, plural, sentence
from service.model_readout import COLDSTART_TEXT, metric_hint
from service.readable_time import ago, iso
from service.status import LoginView, ModelView, PlaylistView, StatusSnapshot
from service.store.features import Coverage

TOP_TRACKS = 5
"""Tracks of the playlist listed by ``bachbot status`` (the page lists them all)."""


def provider_name(name: str) -> str:
    """A feature provider as a listener knows it (its own name if it is no longer registered)."""
    kind = provider_class(name)
    return name if kind is None else kind.title


def login_sentence(login: LoginView, now: datetime) -> str:
    """The Spotify login's health in one sentence."""
    if login.state == "missing":
        return "Not connected to Spotify yet: run `bachbot auth` to log in."
    if login.state == "revoked":
        return (
            f"Spotify refused bachbot's login ({login.revoked_reason}); Spotify work is paused "
            "until you run `bachbot auth` again."
        )
    said = "Connected to Spotify"
    if login.refreshed_at is not None:
        said += f"; the login was last refreshed {ago(login.refreshed_at, now)}"
    if login.logged_in_at is not None and login.log_in_again_by is not None:
        said += (
            f"; you logged in {ago(login.logged_in_at, now)} and Spotify ends logins after "
            f"6 months: log in again (`bachbot auth`) by {login.log_in_again_by:%Y-%m-%d}"
        )
    return said + "."


def library_sentence(snapshot: StatusSnapshot) -> str:
    known = (
        plural(snapshot.bach_tracks, "Bach track")
        if snapshot.bach_tracks == snapshot.tracks_known
        else f"{plural(snapshot.tracks_known, 'track')} ({snapshot.bach_tracks:,} by Bach)"
    )
    rated = (
        f"{plural(snapshot.ratings, 'rating')} from you"
        if snapshot.ratings
        else "no ratings from you yet"
    )
    return f"bachbot knows {known} and has {rated}."


def model_sentence(model: ModelView | None, snapshot: StatusSnapshot) -> str:
    if model is None:
        return (
            "No model yet: bachbot starts once it has ratings "
            "(like a few Bach recordings on Spotify, or `bachbot rate`)."
        )
    if model.coldstart:
        return (
            f"Fewer than {snapshot.min_ratings} ratings so far ({snapshot.ratings}): "
            f"{COLDSTART_TEXT}; like or rate more Bach tracks to get there sooner."
        )
    since = ""
    if model.promoted_at is not None:
        since = f", in use since {ago(model.promoted_at, snapshot.now)}"
    if model.quality is None:
        return f"The model in use learned from {plural(model.n_ratings, 'rating')}{since}."
    return (
        f"The model in use scores {model.quality.describe()}, "
        f"learned from {plural(model.n_ratings, 'rating')}{since}."
    )


def model_hint(model: ModelView | None) -> str | None:
    """How to read the model's score, e.g. "a coin toss scores 0.50 and a perfect ranking 1.00"."""
    if model is None or model.quality is None or model.coldstart:
        return None
    return metric_hint(model.quality.metric)


def playlist_sentence(playlist: PlaylistView | None, snapshot: StatusSnapshot) -> str:
    if playlist is None:
        return f'"{snapshot.playlist_name}" has not been published yet.'
    said = (
        f'"{playlist.name}" holds {plural(len(playlist.rows), "track")}, '
        f"published {ago(playlist.published_at, snapshot.now)}"
    )
    return f"{said}; {changes_sentence(playlist, snapshot)}."


def to_rate_sentence(snapshot: StatusSnapshot) -> str | None:
    """How the listener has answered "Bach to rate" (None when it is off and never used)."""
    asked = snapshot.to_rate
    name = f'"{snapshot.to_rate_name}"'
    if asked is None:
        if snapshot.to_rate_size == 0:
            return None
        return f"{name} starts once a model is in use: tracks it would learn most from."
    answered = f"you answered {asked.answered} of the {plural(asked.asked, 'track')} it asked about"
    waiting = f"{asked.waiting} waiting" if asked.waiting else "none waiting"
    off = " (now turned off)" if snapshot.to_rate_size == 0 else ""
    return f"{name}{off}: {answered}, {waiting}; like or remove them to teach bachbot."


def changes_sentence(playlist: PlaylistView, snapshot: StatusSnapshot) -> str:
    if playlist.previous_at is None:
        return "this is its first list"
    if not playlist.added and not playlist.removed:
        return "same tracks as the list before"
    return (
        f"since the list before ({ago(playlist.previous_at, snapshot.now)}) "
        f"{len(playlist.added)} added, {len(playlist.removed)} removed"
    )


def run_line(run: RunRecord, snapshot: StatusSnapshot) -> str:
    return f"{ago(run.started_at, snapshot.now):<16} {sentence(run)}"


def render_status_text(snapshot: StatusSnapshot) -> str:
    """What ``bachbot status`` prints: sentences, newest news first, no table names."""
    lines = [
        login_sentence(snapshot.login, snapshot.now),
        *([snapshot.login.paused_reason + "."] if snapshot.login.paused_reason else []),
        playlist_sentence(snapshot.playlist, snapshot),
    ]
    if snapshot.playlist is not None and snapshot.playlist.rows:
        for row in snapshot.playlist.rows[:TOP_TRACKS]:
            by = f" - {row.track.artists}" if row.track.artists else ""
            lines.append(f"  {row.position:>2}. {row.track.name}{by} ({row.score_text})")
        more = len(snapshot.playlist.rows) - TOP_TRACKS
        if more > 0:
            lines.append(f"      ... and {plural(more, 'more track')} (see the status page)")
    to_rate = to_rate_sentence(snapshot)
    lines += [*([to_rate] if to_rate else []), model_sentence(snapshot.model, snapshot)]
    lines += [library_sentence(snapshot), ""]
    lines.append("Recent activity:")
    lines += [f"  {run_line(run, snapshot)}" for run in snapshot.latest_runs] or [
        "  nothing has run yet"
    ]
    lines += ["", "Where track descriptions come from:"]
    lines += [
        f"  {provider_name(name)}: {text}" + coverage_suffix(snapshot, name)
        for name, text in snapshot.providers.items()
    ]
    if snapshot.notes:
        lines += ["", *snapshot.notes]
    if snapshot.unreadable:
        lines += ["", "Playlists bachbot cannot read:"]
        lines += [f"  {p.name} (owner {p.owner}): {p.reason}" for p in snapshot.unreadable]
    lines += ["", f"Data: {snapshot.database_url} (files in {snapshot.data_dir})"]
    return "\n".join(lines)


def status_json(snapshot: StatusSnapshot) -> dict[str, Any]:
    """``bachbot status --json``: the machine-readable snapshot, raw counts included."""
    login = snapshot.login
    model = snapshot.model
    playlist = snapshot.playlist
    return {
        "generated_at": iso(snapshot.now),
        "database_url": snapshot.database_url,
        "data_dir": snapshot.data_dir,
        "counts": snapshot.table_counts,
        "last_runs": [_run_json(r) for r in snapshot.latest_runs],
        "auth": {
            "state": login.state,
            "token_refreshed_at": iso(login.refreshed_at),
            "token_expires_at": iso(login.expires_at),
            "logged_in_at": iso(login.logged_in_at),
            "log_in_again_by": iso(login.log_in_again_by),
            "revoked_reason": login.revoked_reason,
            "spotify_paused": login.paused_reason,
            "next_step": None if login.state == "ok" else "run `bachbot auth`",
        },
        "model": None
        if model is None
        else {
            "version": model.version,
            "kind": model.kind,
            "n_ratings": model.n_ratings,
            "promoted_at": iso(model.promoted_at),
            "metric": None if model.quality is None else model.quality.metric,
            "score": None if model.quality is None else model.quality.value,
            "metrics": model.raw_metrics,
        },
        "playlist": None
        if playlist is None
        else {
            "published_at": iso(playlist.published_at),
            "previous_published_at": iso(playlist.previous_at),
            "tracks": [
                {
                    "position": r.position,
                    "track_id": r.track.track_id,
                    "name": r.track.name,
                    "artists": r.track.artists,
                    "score": r.score,
                    "why": list(r.why),
                    "new": r.is_new,
                }
                for r in playlist.rows
            ],
            "added": [t.track_id for t in playlist.added],
            "removed": [t.track_id for t in playlist.removed],
        },
        "ratings": snapshot.ratings,
        "bot_playlist_id": snapshot.bot_playlist_id,
        "to_rate": None
        if snapshot.to_rate is None
        else {
            "name": snapshot.to_rate_name,
            "asked": snapshot.to_rate.asked,
            "answered": snapshot.to_rate.answered,
            "waiting": snapshot.to_rate.waiting,
        },
        "providers": snapshot.providers,
        "coverage": {name: asdict(c) for name, c in snapshot.coverage.items()},
        "notes": list(snapshot.notes),
        "unreadable_playlists": [
            {"name": p.name, "owner": p.owner, "reason": p.reason} for p in snapshot.unreadable
        ],
    }


def _run_json(run: RunRecord) -> dict[str, Any]:
    return {
        "job": run.job,
        "status": run.status,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "counts": dict(run.counts),
        "error": run.error,
        "summary": sentence(run),
    }


def coverage_sentence(coverage: Coverage) -> str:
    """``"describes 84% of new tracks (912 of 1,086) and 75% of known ones (9 of 12)"``."""

    def share(part: int, whole: int) -> str:
        return f"{part / whole:.0%} ({part:,} of {whole:,})" if whole else "none yet"

    return (
        f"describes {share(coverage.new_described, coverage.new)} of new tracks and "
        f"{share(coverage.known_described, coverage.known)} of known (rated) ones"
    )


def coverage_suffix(snapshot: StatusSnapshot, provider: str) -> str:
    """The coverage after a provider's status line (empty before any track is known)."""
    coverage = snapshot.coverage.get(provider)
    if coverage is None or coverage.known + coverage.new == 0:
        return ""
    return "; " + coverage_sentence(coverage)
