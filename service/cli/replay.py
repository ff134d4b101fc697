"""``bachbot replay``: the whole learning loop on a labelled table, against simple rankers.

Like ``evaluate --dataset`` it needs no database and no Spotify account: the
table's label is the listener's hidden answer and :mod:`jobs.replay` runs the
daemon's own decisions on it, round by round.  With ``--json`` stdout is
exactly one JSON object; progress goes to stderr.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from service.cli import settings_of
from service.cli.table_options import FEATURES, GROUP, POSITIVE_AT, names

if TYPE_CHECKING:
    from jobs.replay import Interval, Replay


def _pct(value: float) -> str:
    return "  - " if math.isnan(value) else f"{100 * value:3.0f}%"


def _span(interval: Interval) -> str:
    if math.isnan(interval.low):
        return f"{_pct(interval.mean)}          "
    return f"{_pct(interval.mean)} [{_pct(interval.low)}-{_pct(interval.high)}]".replace("[ ", "[")


def replay_text(replay: Replay) -> str:
    """One line per round: bachbot's loved share beside each baseline's, with 95 % intervals."""
    others = [p for p in replay.policies if p != "bachbot"]
    head = f"{'round':>5} {'ratings':>7}  {'bachbot':<16}" + "".join(f" {p:<16}" for p in others)
    lines = [
        f"loved share of the published playlist, mean [95% interval] over "
        f"{len(replay.seeds)} seed(s)",
        head,
    ]
    for i in range(replay.rounds):
        first = replay.runs["bachbot"]
        ratings = sum(s[i].ratings for s in first) / len(first)
        row = f"{i + 1:>5} {ratings:>7.0f}  {_span(replay.share('bachbot', i)):<16}"
        row += "".join(f" {_span(replay.share(p, i)):<16}" for p in others)
        lines.append(row)
    last = replay.rounds - 1
    models = sorted({str(s[last].model) for s in replay.runs["bachbot"]})
    lines.append(f"model in use at the last round: {', '.join(models)}")
    summary = replay.summary()
    diff = summary.get("bachbot_minus_nn")
    if isinstance(diff, dict) and diff.get("mean") is not None:
        low, high = diff.get("low"), diff.get("high")
        span = "" if low is None or high is None else f" [{100 * low:+.0f} to {100 * high:+.0f}]"
        lines.append(
            f"bachbot minus nearest-neighbour at the last round: {100 * diff['mean']:+.0f} "
            f"points{span}"
        )
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    @app.command("replay")
    def replay(
        ctx: typer.Context,
        dataset: Path = typer.Option(
            ...,
            "--dataset",
            metavar="FILE.csv",
            help="Tracks with the listener's label.",
        ),
        target: str = typer.Option(
            ..., "--target", metavar="COLUMN", help="The label: 0/1 (liked) or a 1-10 rating."
        ),
        features: str | None = FEATURES,
        group: str | None = GROUP,
        positive_at: float | None = POSITIVE_AT,
        popularity: str | None = typer.Option(
            None,
            "--popularity",
            metavar="COLUMN",
            help="A popularity column for the most-popular baseline.",
        ),
        rounds: int = typer.Option(10, "--rounds", min=1, max=100, help="Rounds to play."),
        playlist_size: int = typer.Option(
            30, "--playlist-size", min=1, max=500, help="Tracks published per round."
        ),
        to_rate: int | None = typer.Option(
            None,
            "--to-rate",
            min=0,
            max=100,
            help="Tracks asked about per round (default BACHBOT_TO_RATE_SIZE; 0: none).",
        ),
        explore: float | None = typer.Option(
            None, "--explore", min=0.0, max=0.5, help="Override BACHBOT_EXPLORE for this run."
        ),
        start_likes: int = typer.Option(
            5, "--start-likes", min=1, help="Loved tracks liked before bachbot started."
        ),
        seed: int = typer.Option(0, "--seed", help="The first seed."),
        repeats: int = typer.Option(5, "--repeats", min=1, max=50, help="Seeds to run."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        fast: bool = typer.Option(
            False, "--fast", help="Quick two-point grid (faster; the model is less tuned)."
        ),
    ) -> None:
        """Replay the learning loop on a labelled table beside random, nearest-neighbour, oracle."""
        import json

        import numpy as np

        from jobs.replay import ReplayOptions, run_replay, table_from
        from models.datasets import dataset_labels, read_table
        from service.cli.progress import progress_line

        settings = settings_of(ctx)
        columns = names(features)
        table = read_table(
            dataset, target=target, features=columns, group=names(group),
            also=[popularity] if popularity else [],
        )  # fmt: skip
        pop = table.extra.get(popularity) if popularity else None
        if not as_json:
            for note in table.notes:
                typer.echo(f"note: {note}", err=True)
        labels = dataset_labels(table.y, positive_at, settings.love_threshold, target)
        groups = table.groupings[0].ids if group and table.groupings else None
        replay_table = table_from(
            table.X, labels.loved.astype(bool), columns=table.columns, settings=settings,
            ratings=labels.ratings, groups=groups, popularity=pop,
        )  # fmt: skip
        options = ReplayOptions(
            rounds=rounds,
            playlist_size=playlist_size,
            to_rate=settings.to_rate_size if to_rate is None else to_rate,
            start_likes=start_likes,
            explore=explore,
            fast=fast,
        )
        with progress_line("bachbot replay", quiet=as_json) as progress:
            result = run_replay(
                replay_table, settings=settings, options=options,
                seeds=list(range(seed, seed + repeats)), progress=progress,
            )  # fmt: skip
        if as_json:
            payload = {
                "dataset": str(dataset),
                "target": target,
                "rows": replay_table.n,
                "loved_rows": int(np.sum(replay_table.loved)),
                "options": {
                    "rounds": rounds,
                    "playlist_size": playlist_size,
                    "to_rate": options.to_rate,
                    "explore": settings.explore if explore is None else explore,
                    "start_likes": start_likes,
                    "fast": fast,
                },
                **result.to_dict(),
            }
            typer.echo(json.dumps(payload))
        else:
            typer.echo(replay_text(result))
