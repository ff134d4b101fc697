"""``bachbot explain TRACK [--json]``: why the model in use gave a track its score.

Reads the explanation the score job stored with the prediction; a track the
score job did not explain (it explains the best-scored and the published) is
explained now, with the model in use, and stored.  Shows the score on the
listener's scale with the range of the fold models, the three features that
moved it most against the average candidate, the rated recordings it is
closest to, and which providers' descriptors the track has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from service.cli import settings_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from service.settings import Settings

SPREADS = 2.0
"""The interval is the score +- this many model spreads (the fold models' SD), within 0-1."""


def interval(score: float, spread: float | None) -> tuple[float, float] | None:
    """Where the fold models' answers mostly lie (None: the model has no spread)."""
    if spread is None or spread != spread:
        return None
    return max(0.0, score - SPREADS * spread), min(1.0, score + SPREADS * spread)


def unknown_track(track_id: str) -> Exception:
    from service.errors import NothingToExplain

    return NothingToExplain(
        f"no track {track_id!r} in the database; run `bachbot sync` first or check the id"
    )


def explanation_of(*, session: Session, settings: Settings, track_id: str) -> dict[str, Any]:
    """The ``--json`` object for one track; :class:`NothingToExplain` says why there is none."""
    from sqlalchemy import select

    from models.features.registry import provider_class
    from service.errors import NothingToExplain
    from service.store.model_versions import promoted_model
    from service.store.ratings import effective_ratings
    from service.store.tables import Feature, Prediction, Track

    track = session.get(Track, track_id)
    if track is None:
        raise unknown_track(track_id)
    rating = effective_ratings(session=session).get(track_id)
    if rating is not None:
        raise NothingToExplain(
            f'"{track.name}" is rated ({rating:g}/10), so bachbot does not predict it; '
            "explain works on tracks it has not heard your answer on"
        )
    model = promoted_model(session=session)
    if model is None:
        raise NothingToExplain("no model is in use yet; run `bachbot train`, then `bachbot score`")
    prediction = session.scalars(
        select(Prediction).where(
            Prediction.track_id == track_id, Prediction.model_version_id == model.id
        )
    ).first()
    if prediction is None:
        why = "it is not a Bach recording" if not track.is_bach else "it is not scored yet"
        raise NothingToExplain(
            f'model {model.version} has no prediction for "{track.name}": {why}; '
            "run `bachbot score` (or wait for the next cycle)"
        )
    if prediction.explanation is None:
        from jobs.explain import explain_on_demand
        from models.errors import ArtifactRefused

        try:
            explain_on_demand(session=session, version=model, settings=settings, track_id=track_id)
        except ArtifactRefused as err:
            raise NothingToExplain(
                f"the model in use cannot be loaded to explain it ({err}); run `bachbot train`"
            ) from err
        session.commit()
        session.refresh(prediction)
    stored = prediction.explanation or {}
    providers: dict[str, list[str]] = {}
    for feature in session.scalars(select(Feature).where(Feature.track_id == track_id)):
        kind = provider_class(feature.provider)
        if feature.values is not None and kind is not None:
            providers.setdefault(kind.block, []).append(feature.provider)
    span = interval(prediction.score, prediction.uncertainty)
    return {
        "track_id": track.id,
        "name": track.name,
        "score": prediction.score,
        "interval": None if span is None else list(span),
        "model_version": model.version,
        "model_kind": model.kind,
        "explained": bool(stored),
        "method": stored.get("method"),
        "average_candidate": stored.get("average_candidate"),
        "average_without_gaps": bool(stored.get("average_without_gaps", False)),
        "reasons": list(stored.get("reasons", [])),
        "neighbours": list(stored.get("neighbours", [])),
        "audio": bool(providers.get("audio")),
        "providers": {block: sorted(names) for block, names in sorted(providers.items())},
        **({"note": stored["note"]} if "note" in stored else {}),
    }


def render_explanation(view: dict[str, Any]) -> str:
    """The text a listener reads (pure)."""
    from service.model_readout import format_score

    lines = [f"{view['name']}  (spotify:track:{view['track_id']})"]
    score = format_score(view["score"])
    span = view["interval"]
    if span is not None:
        score += f", between {span[0]:.0%} and {span[1]:.0%} across the model's fold fits"
    lines.append(f"{score}  [model {view['model_version']}]")
    if not view["explained"]:
        lines.append("No explanation: the model in use gave none for this track.")
    average = view.get("average_candidate")
    if view["explained"] and average is not None:
        like = (
            " (with the descriptors this track lacks left out too)"
            if view.get("average_without_gaps")
            else ""
        )
        if view["reasons"] or abs(view["score"] - average) >= 0.005:
            lines.append(
                f"The average candidate{like} scores {average:.0%}; what moved this track "
                "away from it:"
            )
        else:
            lines.append(
                f"It scores as the average candidate{like} does ({average:.0%}): no feature "
                "moves it by half a point or more."
            )
    elif view["reasons"]:
        lines.append("What moved the score most, against the average candidate:")
    for reason in view["reasons"]:
        points = reason["effect"] * 100
        verb = "raised" if points >= 0 else "lowered"
        size = f"{abs(points):.0f}" if abs(points) >= 1.5 else f"{abs(points):.1f}"
        lines.append(f"  {reason['text']:<48} {verb} it {size} pts")
    if view["neighbours"]:
        lines.append("The rated recordings it is closest to:")
        for n in view["neighbours"]:
            lines.append(f"  {n['rating']:>4g}/10  {n['name']}  (similarity {n['similarity']:.2f})")
    if "note" in view:
        lines.append(view["note"][:1].upper() + view["note"][1:] + ".")
    described = "; ".join(f"{b}: {', '.join(p)}" for b, p in view["providers"].items())
    lines.append(f"Descriptors used: {described or 'none yet'}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain(
        ctx: typer.Context,
        track: str = typer.Argument(..., help="Track id, spotify:track: URI or open.spotify URL."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Why the model in use predicts what it does for one track."""
        import json

        from jobs.rating_input import parse_track_ref
        from service.errors import UsageError
        from service.store.db import database_exists, open_database, session_factory

        try:
            track_id = parse_track_ref(track)
        except ValueError as err:
            raise UsageError(f"cannot explain: {err}") from err
        settings = settings_of(ctx)
        if not database_exists(settings):
            raise unknown_track(track_id)
        engine = open_database(settings)
        with session_factory(engine)() as session:
            view = explanation_of(session=session, settings=settings, track_id=track_id)
        typer.echo(json.dumps(view) if as_json else render_explanation(view))
