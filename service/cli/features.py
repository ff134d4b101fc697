"""``bachbot features --show TRACK``: what each provider says about one track;
``bachbot features --audio FILE``: the preview analysis run on a local audio file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from service.cli import settings_of

if TYPE_CHECKING:
    from service.store.tables import Track


def render_features(
    *, track: Track, rows: Mapping[str, tuple[int, Mapping[str, Any] | None, str, str | None]]
) -> str:
    """Text for one track: the title as parsed, then each provider's values (zeros left out).

    ``rows`` maps provider -> (schema version, values or None, fetched-at text, why none).
    """
    from models.features.catalogue import lookup
    from models.features.keys import key_label
    from models.features.registry import provider_classes
    from models.features.titles import parse_title

    info = parse_title(track.name)
    bwv = track.bwv or info.bwv
    work = lookup(bwv) if bwv else None
    lines = [f"{track.id}  {track.name}"]
    facts = [f"BWV {bwv}" if bwv else "no BWV number"]
    if work is not None:
        facts.append(f"{work.group}: {work.title}")
    if info.key is not None:
        facts.append(key_label(info.key, info.mode))
    if info.movement_form:
        facts.append(f"form {info.movement_form}")
    if info.movement_number is not None:
        facts.append(f"movement {info.movement_number}")
    if info.instruments:
        facts.append("instruments " + ", ".join(info.instruments))
    lines.append("title: " + " · ".join(facts))
    titles = {kind.name: kind.title for kind in provider_classes()}
    chain = list(titles)
    for provider in [*chain, *sorted(set(rows) - set(chain))]:  # then any no longer registered
        if provider not in rows:
            lines.append(f"[{provider}] not fetched yet")
            continue
        version, values, fetched, reason = rows[provider]
        source = (
            f"[{provider}] {titles.get(provider, 'no longer registered')}, v{version}, {fetched}"
        )
        if values is None:
            lines.append(f"{source}: nothing for this track" + (f" ({reason})" if reason else ""))
            continue
        lines.append(f"{source}:")
        for name, value in values.items():
            if value is None:
                lines.append(f"  {name:<28} -")
            elif value != 0 or "." not in name:
                number = f"{value:.4g}" if isinstance(value, float) else str(value)
                lines.append(f"  {name:<28} {number}")
    return "\n".join(lines)


def render_audio(path: Path, values: Mapping[str, float]) -> str:
    """The descriptors of one audio file, named as a listener reads them."""
    from models.features.audio import PITCH_NAMES
    from models.features.keys import Mode, key_label

    chroma = [values[f"chroma_{i}"] for i in range(12)]
    mode: Mode = "major" if values["mode"] == 1 else "minor"
    lines = [
        f"{path}",
        f"chroma means (the study's pitch vector; C..B, each 0-1, sum {sum(chroma):.2f}):",
        "  " + "  ".join(f"{n} {v:.2f}" for n, v in zip(PITCH_NAMES, chroma, strict=True)),
        "12 MFCC means (stand-in for the study's timbre vector):",
        "  " + "  ".join(f"{values[f'mfcc_{i}']:.1f}" for i in range(12)),
        f"tempo {values['tempo']:.1f} BPM · onsets {values['onset_rate']:.2f}/s",
        f"key {key_label(int(values['key']), mode)} (profile correlation "
        f"{values['key_strength']:.2f})",
        f"loudness {values['rms_db']:.1f} dBFS RMS · spectral centroid "
        f"{values['centroid_hz']:.0f} Hz · bandwidth {values['bandwidth_hz']:.0f} Hz · "
        f"flatness {values['flatness']:.4f}",
    ]
    return "\n".join(lines)


def describe_file(path: Path, numba_cache: Path) -> str:
    """``bachbot features --audio``: analyse a local file with the preview provider's code."""
    from models.features.audio import AudioUnreadable, describe_audio, prepare_numba_cache
    from service.errors import UsageError

    try:
        data = path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from err
    prepare_numba_cache(numba_cache)
    try:
        values = describe_audio(data)
    except AudioUnreadable as err:
        raise UsageError(f"cannot describe {path}: {err.reason}") from err
    return render_audio(path, values)


def register(app: typer.Typer) -> None:
    @app.command("features")
    def features(
        ctx: typer.Context,
        show: str | None = typer.Option(
            None,
            "--show",
            metavar="TRACK",
            help="Track id, spotify:track: URI or open.spotify URL.",
        ),
        audio: Path | None = typer.Option(
            None,
            "--audio",
            metavar="FILE",
            help="Describe a local audio file (MP3, WAV, FLAC, OGG) as previews are described.",
        ),
    ) -> None:
        """Print a track's stored features, provider by provider, or describe an audio file."""
        from sqlalchemy import select

        from service.errors import UsageError

        if (show is None) == (audio is None):
            raise UsageError("give one of --show TRACK or --audio FILE")
        if audio is not None:
            typer.echo(describe_file(audio, settings_of(ctx).data_dir / "cache" / "numba"))
            return
        assert show is not None

        from jobs.rating_input import parse_track_ref
        from service.store.db import database_exists, open_database, session_factory
        from service.store.tables import Feature, Track

        try:  # the same reading of a track reference as `bachbot rate` and rating imports
            track_id = parse_track_ref(show)
        except ValueError as err:
            raise UsageError(f"cannot show features: {err}") from err
        settings = settings_of(ctx)
        unknown = (
            f"bachbot: no track {track_id!r} in the database; run `bachbot sync` first "
            "or check the id"
        )
        if not database_exists(settings):  # nothing to show, and nothing to create
            typer.echo(unknown, err=True)
            raise typer.Exit(1)
        engine = open_database(settings)
        with session_factory(engine)() as session:
            track = session.get(Track, track_id)
            if track is None:
                typer.echo(unknown, err=True)
                raise typer.Exit(1)
            rows = {
                f.provider: (
                    f.schema_version,
                    f.values,
                    f.fetched_at.isoformat(timespec="seconds"),
                    f.reason,
                )
                for f in session.scalars(select(Feature).where(Feature.track_id == track_id))
            }
            typer.echo(render_features(track=track, rows=rows))
