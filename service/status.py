"""What bachbot is doing, as one JSON-safe snapshot for ``bachbot status`` and the status page.

Reads the database only; never calls Spotify, so it answers even when Spotify
or the token does not.  Nothing secret goes in: the database URL is shown
with its password hidden, the token only as "present" and its expiry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from service.settings import Settings
from service.store.db import hide_password
from service.store.jobruns import last_runs
from service.store.model_versions import promoted_model
from service.store.models import ALL_TABLES, AppState, ModelVersion, OAuthToken, Playlist


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def collect_status(*, engine: Engine, settings: Settings) -> dict[str, Any]:
    with Session(engine) as session:
        counts = {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in ALL_TABLES
        }
        runs = [
            {
                "job": run.job,
                "status": run.status,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "counts": run.counts,
                "error": run.error,
            }
            for run in last_runs(session=session)
        ]
        token = session.get(OAuthToken, "default")
        expires_at = None if token is None else token.token_info.get("expires_at")
        state = {row.key: row.value for row in session.scalars(select(AppState))}
        model = promoted_model(session=session)
        unreadable = [
            {
                "id": p.id,
                "name": p.name,
                "owner": p.owner_name or p.owner_id,
                "reason": p.unreadable_reason,
            }
            for p in session.scalars(
                select(Playlist).where(Playlist.readable.is_(False)).order_by(Playlist.name)
            )
        ]
    auth_state = "revoked" if state.get("auth.revoked") else ("ok" if token else "missing")
    return {
        "database_url": hide_password(settings.resolved_database_url),
        "data_dir": str(settings.data_dir),
        "counts": counts,
        "last_runs": runs,
        "auth": {
            "state": auth_state,
            "token_expires_at": (
                datetime.fromtimestamp(int(expires_at), UTC).isoformat()
                if isinstance(expires_at, int | float)
                else None
            ),
            "next_step": None if auth_state == "ok" else "run `bachbot auth`",
        },
        "model": None
        if model is None
        else {
            "version": model.version,
            "kind": model.kind,
            "n_ratings": model.n_ratings,
            "metrics": model.metrics,
            "params": model.params,
            "promoted_at": _iso(model.promoted_at),
        },
        "bot_playlist_id": state.get("publish.playlist_id"),
        "providers": {
            key.removeprefix("provider."): _provider_text(value)
            for key, value in state.items()
            if key.startswith("provider.")
        },
        "notes": [str(v) for k, v in sorted(state.items()) if k.startswith("note.")]
        + _model_notes(model, settings),
        "unreadable_playlists": unreadable,
    }


def _provider_text(value: Any) -> str:
    if isinstance(value, dict):
        reason = value.get("reason") or value
        since = value.get("since")
        return f"{reason}" + (f" (since {since})" if since else "")
    return str(value)


def _model_notes(model: ModelVersion | None, settings: Settings) -> list[str]:
    if model is not None and model.kind == "coldstart":
        return [
            f"fewer than {settings.min_ratings} ratings so far: bachbot ranks new recordings by "
            "their similarity to your top-rated tracks until it has enough to train its model "
            "(like or rate more tracks to get there sooner)"
        ]
    return []


def render_status_text(snapshot: dict[str, Any]) -> str:
    """The human-readable form of :func:`collect_status`."""
    lines = [
        f"database: {snapshot['database_url']}",
        f"data dir: {snapshot['data_dir']}",
        f"spotify auth: {snapshot['auth']['state']}"
        + (f" ({snapshot['auth']['next_step']})" if snapshot["auth"]["next_step"] else ""),
        "",
        "counts:",
    ]
    width = max(len(name) for name in snapshot["counts"])
    lines += [f"  {name:<{width}}  {count}" for name, count in snapshot["counts"].items()]
    lines += ["", "last job runs:"]
    if not snapshot["last_runs"]:
        lines.append("  (none yet)")
    for run in snapshot["last_runs"]:
        extra = f" error: {run['error']}" if run["error"] else ""
        counts = ", ".join(f"{k}={v}" for k, v in run["counts"].items())
        lines.append(f"  {run['job']:<10} {run['status']:<8} {run['started_at']}  {counts}{extra}")
    model = snapshot["model"]
    lines += ["", "model: " + ("none promoted yet" if model is None else _model_line(model))]
    for name, value in snapshot["providers"].items():
        lines.append(f"feature provider {name}: {value}")
    for note in snapshot["notes"]:
        lines.append(f"note: {note}")
    if snapshot["unreadable_playlists"]:
        lines += ["", "playlists bachbot cannot read:"]
        for p in snapshot["unreadable_playlists"]:
            lines.append(f"  {p['name']} (owner {p['owner']}): {p['reason']}")
    return "\n".join(lines)


def _model_line(model: dict[str, Any]) -> str:
    metrics = model.get("metrics") or {}
    r2 = metrics.get("r2")
    score = f", nested CV R2 {r2:.3f}" if isinstance(r2, int | float) else ""
    return f"{model['version']} ({model['kind']}, {model['n_ratings']} ratings{score})"
