"""``python -m bench``: every benchmark, one table, ``results.json`` and ``results.md``.

    python -m bench [--quick] [--backend sqlite|postgres|both]
                    [--only calls|releases|cycle|model|replay|startup|explain|previews|kill]
                    [--kill-trials N]
                    [--out DIR] [--verbose]

The results go to ``--out`` (default: this checkout's ``bench/`` when run from
a checkout, else ``./bench-results/``; never into an installed package).
Progress is one line per section (on a terminal, a status line shows the
steps within); logs show warnings only, unless ``--verbose``.

Sections (see bench/README.md for what each figure means):

* ``calls``: Spotify calls per cycle against the minimum, four scenarios,
  with a naive full re-read and plain spotipy paging as baselines;
* ``releases``: calls to know a 20,000-album discography's 50 new releases
  after one cycle, against the minimum and a plain discography walk;
* ``cycle``: wall time and peak RSS of one cycle at 1k, 10k and 50k known
  tracks plus 500 new ones, each in its own process, against an empty cycle;
* ``model``: training time (nested CV, default grid) at 100, 1,000 and 5,000
  ratings and scoring 50,000 tracks; sizes the remaining time budget cannot
  hold are skipped with an estimate, and the output says so;
* ``startup``: CPU time and peak RSS of ``bachbot --help`` and ``bachbot
  status`` against ``python -c pass``, and how fast ``status`` gives up on a
  database it cannot use;
* ``explain``: what explaining 500 newly scored tracks adds to the score job
  (on the demo's library and model), the taste summary, and how often the
  top reason agrees with sampled Shapley values (:mod:`bench.explain`);
* ``previews``: CPU time and peak RSS of describing 500 new tracks' Deezer
  previews (served by the local Deezer), one warm analysis, and the first
  analysis in a process with and without numba's cache;
* ``kill`` (only when asked for: ``--only kill``, or ``--kill-trials N`` beside
  the others; about 20 s a trial): ``kill -9`` of a real ``bachbot run`` at
  random moments inside each step, each followed by a restart and a whole
  cycle, and what the checks of :mod:`bench.kill_trials` found.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.report import Row, machine_info, render_markdown, render_table, write_results
from bench.world import BACKENDS, PG_ADMIN_URL, postgres_available

SECTIONS = ("calls", "releases", "cycle", "model", "replay", "startup", "explain", "previews")
ON_REQUEST = ("kill",)
"""Sections a plain run leaves out (they take long): ``--only`` them, or give their size."""
KILL_TRIALS = 50
DEFAULT_BUDGET_S = 570.0
QUICK_TRAIN = (40,)
QUICK_SCORE = 2_000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="bachbot's benchmarks: one table, one JSON file."
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test)")
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument(
        "--only", choices=SECTIONS + ON_REQUEST, action="append", help="run only this section"
    )
    parser.add_argument(
        "--kill-trials", type=int, default=None, metavar="N",
        help=f"kill trials per back-end; given, the kill section runs beside the others "
        f"(default with --only kill: {KILL_TRIALS})",
    )  # fmt: skip
    parser.add_argument(
        "--out", type=Path, default=None, metavar="DIR",
        help="folder for results.json and results.md (default: the checkout's bench/ when "
        "run from a checkout, else ./bench-results/)",
    )  # fmt: skip
    parser.add_argument(
        "--verbose", action="store_true", help="every step as a line, and info logs"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-sizes", default="100,1000,5000")
    parser.add_argument("--score-tracks", type=int, default=50_000)
    parser.add_argument(
        "--cycle-sizes", default=None, metavar="N,N",
        help="known-track sizes of the cycle section (default 1000,10000,50000,500000)",
    )  # fmt: skip
    parser.add_argument(
        "--budget", type=float, default=DEFAULT_BUDGET_S,
        help="seconds the whole run may take; training sizes that would not fit are skipped",
    )  # fmt: skip
    return parser.parse_args(argv)


def default_out_dir() -> Path:
    """This checkout's ``bench/`` when the package is a checkout (``pyproject.toml`` beside
    it, not inside site-packages), else ``./bench-results/``."""
    here = Path(__file__).resolve().parent
    checkout = (here.parent / "pyproject.toml").is_file() and "site-packages" not in here.parts
    return here if checkout else Path.cwd() / "bench-results"


def run(
    args: argparse.Namespace, *, section: Callable[[str], None], step: Callable[[str], None]
) -> tuple[list[Row], dict[str, Any]]:
    """Run the chosen sections; returns the rows and the JSON's ``options``.

    ``section`` gets one line per section; ``step`` the steps within it.
    """
    started = time.monotonic()
    sections = args.only or [*SECTIONS, *(["kill"] if args.kill_trials else [])]
    kill_trials = args.kill_trials or (2 if args.quick else KILL_TRIALS)
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]

    def say(line: str) -> None:
        section(f"[{time.monotonic() - started:6.1f} s] {line}")

    def detail(line: str) -> None:
        step(f"[{time.monotonic() - started:6.1f} s] {line.strip()}")

    rows: list[Row] = []
    if "postgres" in backends and not postgres_available():
        say("PostgreSQL is not reachable: postgres figures skipped")
        rows.append(Row("setup", "postgres back-end", None, "", note="not reachable; skipped"))
        backends.remove("postgres")
    cycle_results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bachbot-bench-") as tmp:
        folder = Path(tmp)
        if "calls" in sections:
            from bench.calls import run_calls

            for backend in backends:
                say(f"calls per cycle on {backend} ...")
                rows += run_calls(
                    backend, folder / f"calls_{backend}", quick=args.quick, seed=args.seed,
                    progress=detail,
                )  # fmt: skip
        if "releases" in sections:
            from bench.new_releases import run_new_releases

            say("new releases in a large discography (calls; sqlite) ...")
            release_rows, _ = run_new_releases(
                folder / "releases", quick=args.quick, seed=args.seed, progress=detail
            )
            rows += release_rows
        if "cycle" in sections and backends:
            from bench.cycle import build_template, run_cycles

            cycle_sizes = (
                tuple(int(n) for n in args.cycle_sizes.split(",")) if args.cycle_sizes else None
            )

            say("building the template library through the product ...")
            template = build_template(
                folder / "template", quick=args.quick, seed=args.seed, progress=detail
            )
            for backend in backends:
                say(f"cycle time and memory on {backend} ...")
                cycle_rows, results = run_cycles(
                    backend, folder / f"cycle_{backend}", template, quick=args.quick,
                    seed=args.seed, progress=detail, sizes=cycle_sizes,
                )  # fmt: skip
                rows += cycle_rows
                cycle_results += results
        if "model" in sections:
            from bench.model import SCALE_SCORE_N, SCORE_JOB_TARGET_S, run_model

            sizes = QUICK_TRAIN if args.quick else [int(s) for s in args.train_sizes.split(",")]
            score_n = QUICK_SCORE if args.quick else args.score_tracks
            left = args.budget - (time.monotonic() - started) - 20
            say(f"training and scoring (training budget {left:.0f} s) ...")
            model_rows, _ = run_model(
                train_sizes=sizes,
                score_n=score_n,
                budget_s=max(left, 0.0),
                progress=detail,
                scale_n=QUICK_SCORE * 4 if args.quick else SCALE_SCORE_N,
            )
            rows += model_rows
            for result in cycle_results:
                if result["size"] == max(r["size"] for r in cycle_results) and result["size"]:
                    whole = result["steps"].get("score")
                    explaining = result.get("score_explain_seconds") or 0.0
                    seconds = None if whole is None else max(whole - explaining, 0.0)
                    rows.append(Row(
                        "model", f"score job, {result['scored'] or 0:,} tracks "
                        f"({result['backend']}, in the cycle)", seconds, "s",
                        target=None if args.quick else SCORE_JOB_TARGET_S, compare="<",
                        note="load features from the database, predict, write predictions; "
                        f"the step also explained the new predictions ({explaining:.2f} s, "
                        "held to its own target in the explain section), "
                        f"{whole or 0:.2f} s in all",
                        details={"step_s": whole, "explain_s": explaining},
                    ))  # fmt: skip
        if "replay" in sections:
            from bench.replay import run_replay_bench
            from service.settings import Settings

            say("replay and the answers saved by 'Bach to rate' ...")
            rows += run_replay_bench(
                settings=Settings(_env_file=None), seeds=2 if args.quick else 5,
                rounds=3 if args.quick else 10, rows_n=400 if args.quick else 2_000,
                progress=detail,
            )  # fmt: skip
        if "startup" in sections:
            from bench.startup import run_startup

            say("start-up cost of the command line ...")
            pg = PG_ADMIN_URL if "postgres" in backends else None
            rows += run_startup(
                folder / "startup", quick=args.quick, progress=detail, pg_admin_url=pg
            )
        if "explain" in sections:
            from bench.explain import run_explain

            say("explanations: their cost in the score job, and how they compare ...")
            rows += run_explain(folder / "explain", quick=args.quick, progress=detail)
        if "previews" in sections:
            from bench.previews import run_previews

            say("Deezer previews: analysis cost ...")
            rows += run_previews(folder / "previews", quick=args.quick, progress=detail)
        if "kill" in sections:
            from bench.kill_trials import run_section

            say(f"kill trials ({kill_trials} per back-end) ...")
            kill_rows, _ = run_section(
                backends, folder, trials=kill_trials, seed=args.seed, progress=detail
            )
            rows += kill_rows
    seconds = time.monotonic() - started
    say(f"done in {seconds:.0f} s")
    options = {
        "quick": args.quick,
        "backends": backends,
        "sections": sections,
        "seed": args.seed,
        "train_sizes": args.train_sizes,
        "score_tracks": args.score_tracks,
        "cycle_sizes": args.cycle_sizes,
        "kill_trials": kill_trials if "kill" in sections else None,
        "budget_s": args.budget,
        "seconds": round(seconds, 1),
    }
    return rows, options


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from service.cli.progress import progress_line
    from service.logs import configure_logging

    configure_logging("INFO" if args.verbose else "WARNING")
    out = args.out or default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    started = time.monotonic()
    with progress_line("bachbot bench", verbose=args.verbose) as progress:
        rows, options = run(args, section=progress, step=progress.detail)
    json_path = out / "results.json"
    write_results(
        json_path, rows=rows, machine=machine, options=options, seconds=time.monotonic() - started
    )
    json_path.with_suffix(".md").write_text(_markdown(rows, machine, options), encoding="utf-8")
    print()
    print(
        f"machine: {machine['cores']} cores, {machine['cpu_model']}, Python {machine['python']}, "
        f"numpy {machine['numpy']}, scikit-learn {machine['scikit-learn']}, {machine['date']}"
    )
    print(render_table(rows))
    print(f"\nwritten: {json_path} and {json_path.with_suffix('.md').name}")
    return 0


def _markdown(rows: list[Row], machine: dict[str, Any], options: dict[str, Any]) -> str:
    lines = [
        "# Latest benchmark figures",
        "",
        f"Generated by `python -m bench` on {machine['date']}: {machine['cores']} cores, "
        f"{machine['cpu_model']}, {machine['platform']}, Python {machine['python']}, numpy "
        f"{machine['numpy']}, scikit-learn {machine['scikit-learn']}; load average at start "
        f"{machine['load_average_at_start']}. Run took {options['seconds']:.0f} s. "
        "See README.md in this folder for what each figure means.",
        "",
        render_markdown(rows),
        "",
        "Notes:",
        "",
        *[f"- **{r.section} / {r.name}**: {r.note}" for r in rows if r.note],
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
