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

from bench.replay import curve_details, label_efficiency, to_rate_curves
from jobs.replay import ReplayOptions, interval, run_replay, table_from
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


def _efficiency(e: dict[str, Any]) -> str:
    """``0.45x [0.27x to 0.80x] of 55 (ROC AUC 0.652)``."""

    def x(v: float | str) -> str:
        return "never" if v == "inf" else f"{float(v):.2f}x"

    return (
        f"{x(e['ratio'])} [{x(e['low'])} to {x(e['high'])}] of {e['at']} "
        f"(ROC AUC {e['target_auc']:.3f})"
    )


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
        '"Bach to rate" alone: 10 answers a round for 10 rounds from 5 likes, ROC AUC of the '
        "model in use on a held-out third of the works, bachbot's draw against random picks "
        "from the same likes. Answers bachbot needs to reach the ROC AUC random picks reach "
        "after N answers, as a share of N (below 1: fewer), read off the curves averaged over "
        "seeds, 95% bootstrap interval over seeds; N fixed in advance at half and all of "
        "the rounds.",
        "",
        "| table | seeds | after half the answers | after all the answers | mean ROC AUC over "
        "the rounds, bachbot - random |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        a = r["to_rate"]
        half, full, diff = a["half"], a["all"], a["mean_auc_diff"]
        lines.append(
            f"| {name} | {half['seeds']} | {_efficiency(half)} | {_efficiency(full)} | "
            f"{diff['mean']:+.3f} [{diff['low']:+.3f} to {diff['high']:+.3f}] |"
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
    parser.add_argument("--to-rate-seeds", type=int, help="seeds for \"Bach to rate\" alone "
                        "(default: --seeds)")  # fmt: skip
    parser.add_argument("--to-rate-only", action="store_true", help="measure only \"Bach to "
                        "rate\"; keep the table's stored replay figures")  # fmt: skip
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    results: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    name = args.name or args.dataset.stem
    if args.to_rate_only and name not in results:
        parser.error(f"--to-rate-only: {args.out} holds no replay of {name!r} to keep")
    settings = Settings(_env_file=None)
    group = [g for g in (args.group or "").split(",") if g] or None
    table = read_table(args.dataset, target=args.target, group=group)
    labels = dataset_labels(table.y, None, settings.love_threshold, args.target)
    groups = table.groupings[0].ids if group else None
    replay_table = table_from(table.X, labels.loved.astype(bool), columns=table.columns,
                              settings=settings, ratings=labels.ratings, groups=groups)  # fmt: skip
    seeds = list(range(args.seeds))
    entry = results.get(name, {}) if args.to_rate_only else {}
    if not args.to_rate_only:
        started = time.perf_counter()
        replay = run_replay(replay_table, settings=settings, options=ReplayOptions(
            rounds=args.rounds), seeds=seeds, progress=print)  # fmt: skip
        seconds = (time.perf_counter() - started) / len(seeds)
        flat = run_replay(replay_table, settings=settings, options=ReplayOptions(
            rounds=args.rounds, explore=0.0), seeds=seeds)  # fmt: skip
        entry = {
            "rows": replay_table.n,
            "rounds": args.rounds,
            "seconds_per_seed": round(seconds, 1),
            "replay": replay.to_dict(),
            "no_explore": flat.summary(),
        }
    to_rate_seeds = range(args.to_rate_seeds or args.seeds)
    curves = to_rate_curves(replay_table, settings=settings, seeds=to_rate_seeds,
                            rounds=args.rounds, say=print)  # fmt: skip
    details = curve_details(curves)
    results[name] = {
        **entry,
        "source": args.source or args.dataset.name,
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "to_rate": {
            "half": label_efficiency(curves, at=args.rounds // 2).to_dict(),
            "all": label_efficiency(curves, at=args.rounds - 1).to_dict(),
            "mean_auc_diff": interval([d["mean_auc_diff"] for d in details]).to_dict(),
            "per_seed": details,
        },
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(render(results))
    print(render(results))


if __name__ == "__main__":
    main()
