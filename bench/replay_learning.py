"""How fast bachbot learns a real person's taste: ``bachbot replay`` on a public table.

    python -m bench.replay_learning --dataset FILE.csv --target COLUMN [--group a,b] \
        [--name NAME] [--source TEXT] [--seeds 5] [--out bench/replay_learning.json]

Three measurements with the product's own code (:mod:`jobs.replay`), default
settings, over ``--seeds`` seeds:

* the replay: loved share of the published playlist per round for bachbot
  (``BACHBOT_EXPLORE`` at its default), random, nearest-neighbour and the
  oracle, and bachbot minus nearest-neighbour at the last round (paired by
  seed), each with a 95 % t-interval;
* the same replay with ``BACHBOT_EXPLORE=0``: what exploration costs or gains;
* "Bach to rate" alone (as ``bench/replay.py``): answers bachbot's picks need
  to reach the ROC AUC random picks reach, as a share of random's.

Results accumulate in one JSON file (keyed by ``--name``) and a Markdown
table beside it.  The tables are not shipped (other people's data).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.replay import answers_saved
from jobs.replay import ReplayOptions, active_learning_trial, interval, run_replay, table_from
from models.datasets import dataset_labels, read_table
from service.settings import Settings

DEFAULT_OUT = Path(__file__).with_name("replay_learning.json")


def _span(d: dict[str, Any], *, points: bool = False) -> str:
    """``83% [71-94]`` for a share, ``+32 [+10 to +54]`` for a difference in points."""
    if d.get("mean") is None:
        return "-"
    low, high = d.get("low"), d.get("high")
    if points:
        span = "" if low is None or high is None else f" [{100 * low:+.0f} to {100 * high:+.0f}]"
        return f"{100 * d['mean']:+.0f}{span}"
    span = "" if low is None or high is None else f" [{100 * low:.0f}-{100 * high:.0f}]"
    return f"{100 * d['mean']:.0f}%{span}"


def render(results: dict[str, Any]) -> str:
    lines = [
        "# How fast bachbot learns a real taste (`bachbot replay`)",
        "",
        "Loved share of the published playlist at the last round, mean [95% interval] over "
        "seeds; bachbot - nearest-neighbour in points, paired by seed. `python -m "
        "bench.replay_learning`.",
        "",
        "| table | rows | rounds | bachbot | bachbot, explore 0 | nearest-neighbour | random "
        "| oracle | bachbot - nn | time per seed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        last, flat = r["replay"]["summary"]["last_round"], r["no_explore"]["last_round"]
        minus_nn = _span(r["replay"]["summary"]["bachbot_minus_nn"], points=True)
        lines.append(
            f"| {name} | {r['rows']} | {r['rounds']} | {_span(last['bachbot'])} | "
            f"{_span(flat['bachbot'])} | {_span(last['nn'])} | {_span(last['random'])} | "
            f"{_span(last['oracle'])} | {minus_nn} | "
            f"{r['seconds_per_seed']:.0f} s |"
        )
    lines += [
        "",
        '"Bach to rate" alone: 10 answers a round for 10 rounds, ROC AUC of the model in use '
        "on a held-out third of the works, bachbot's draw against random picks from the same "
        "starting likes.",
        "",
        "| table | final ROC AUC, bachbot - random [95% interval] | seeds where bachbot "
        "reached random's final ROC AUC | answers it needed then (x random's) |",
        "|---|---|---|---|",
    ]
    for name, r in results.items():
        a = r["to_rate"]
        diff = a["final_auc_diff"]
        reached = [d for d in a["per_seed"] if d["reached"]]
        needed = ", ".join(f"{d['bachbot_answers'] / d['random_answers']:.2f}" for d in reached)
        lines.append(
            f"| {name} | {diff['mean']:+.3f} [{diff['low']:+.3f} to {diff['high']:+.3f}] | "
            f"{len(reached)} of {len(a['per_seed'])} | {needed or '-'} |"
        )
    lines.append("")
    for name, r in results.items():
        lines.append(f"- **{name}**: {r['source']}; {r['machine']}, {r['date']}.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--group")
    parser.add_argument("--name")
    parser.add_argument("--source", default="")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    settings = Settings(_env_file=None)
    group = [g for g in (args.group or "").split(",") if g] or None
    table = read_table(args.dataset, target=args.target, group=group)
    labels = dataset_labels(table.y, None, settings.love_threshold, args.target)
    groups = table.groupings[0].ids if group else None
    replay_table = table_from(table.X, labels.loved.astype(bool), columns=table.columns,
                              settings=settings, ratings=labels.ratings, groups=groups)  # fmt: skip
    seeds = list(range(args.seeds))
    options = ReplayOptions(rounds=args.rounds)
    started = time.perf_counter()
    replay = run_replay(replay_table, settings=settings, options=options, seeds=seeds,
                        progress=print)  # fmt: skip
    seconds = (time.perf_counter() - started) / len(seeds)
    flat = run_replay(replay_table, settings=settings, options=ReplayOptions(
        rounds=args.rounds, explore=0.0), seeds=seeds)  # fmt: skip
    curves = []
    for seed in seeds:
        pair = tuple(
            active_learning_trial(
                replay_table,
                picks=picks,
                settings=settings,
                seed=seed,
                rounds=args.rounds,
                batch=10,
            )
            for picks in ("active", "random")
        )
        print(f"to rate, seed {seed}: {pair[0].auc[-1]:.3f} vs random {pair[1].auc[-1]:.3f}")
        curves.append(pair)
    _, details = answers_saved(curves)  # type: ignore[arg-type]
    results: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    results[args.name or args.dataset.stem] = {
        "rows": replay_table.n,
        "rounds": args.rounds,
        "source": args.source or args.dataset.name,
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "seconds_per_seed": round(seconds, 1),
        "replay": replay.to_dict(),
        "no_explore": flat.summary(),
        "to_rate": {
            "final_auc_diff": interval([d["final_auc_diff"] for d in details]).to_dict(),
            "per_seed": details,
        },
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(render(results))
    print(render(results))


if __name__ == "__main__":
    main()
