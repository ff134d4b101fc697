"""One measured cycle in a fresh interpreter, so its peak RSS is its own.

    python -m bench.cycle_child SPEC.json

The parent (:mod:`bench.cycle`) prepared the database and runs the local
Spotify; this process imports what the daemon imports, opens the database,
runs ``Cycle.run_once`` once and prints one JSON line: wall time, the seconds
of each step (from the job-run record), and the peak RSS before and after the
cycle (``VmHWM``: this process image only).
"""

from __future__ import annotations

import cProfile
import gc
import importlib
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from service import memory


def peak_rss_mb() -> float:
    """This process image's peak RSS in MiB since start (the job runner resets the peak
    before each step and records that step's own, so the cycle's is the largest of them).

    ``VmHWM`` rather than ``ru_maxrss``: on Linux ``ru_maxrss`` survives
    ``execve`` and so starts at the *parent's* RSS (the benchmark parent holds
    a 50k-track local Spotify), while ``VmHWM`` belongs to this image alone.
    """
    return memory.peak_rss_mb() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    return memory.rss_mb() or 0.0


def run(spec: dict[str, Any]) -> dict[str, Any]:
    started_imports = time.perf_counter()
    import httpx

    from bench.world import settings_from_json
    from service.wiring import wire

    daemon = bool(spec.get("daemon"))
    if daemon:
        # shaped like `bachbot run`: the daemon's modules, train and score in a worker
        importlib.import_module("service.daemon")
    else:
        # The cycle runs in this process: import the model code before the clock, as a
        # process that scores in-process has it, so the figure is the cycle's own work
        # (the daemon's worker start is in the daemon figure).
        importlib.import_module("jobs.score")

    settings = settings_from_json(spec["settings"])
    now = datetime.fromisoformat(spec["clock"])
    with httpx.Client(timeout=30) as http:
        wiring = wire(settings, clock=lambda: now, http_client=http)
        cycle = wiring.cycle()
        cycle.isolate_ml = daemon
        queries = _time_queries(wiring.engine)
        setup_s = time.perf_counter() - started_imports
        floor = peak_rss_mb()
        profile_to = os.environ.get("BACHBOT_BENCH_PROFILE")
        profiler = cProfile.Profile() if profile_to else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = cycle.run_once()
        seconds = time.perf_counter() - started
        if profiler is not None and profile_to:
            profiler.disable()
            profiler.dump_stats(f"{profile_to}.{os.getpid()}")
    gc.collect()
    after = rss_mb()
    scored = next((o.counts for o in report.outcomes if o.job == "score"), {})
    wiring.dispose()
    return {
        "seconds": seconds,
        "setup_seconds": setup_s,
        "rss_floor_mb": floor,
        "rss_peak_mb": max(
            [peak_rss_mb(), *(o.counts.get("peak_rss_mb") or 0 for o in report.outcomes)]
        ),
        "steps": {o.job: o.counts.get("seconds") for o in report.outcomes},
        "step_peaks": {o.job: o.counts.get("peak_rss_mb") for o in report.outcomes},
        "rss_after_mb": after,
        "top_queries": _top(queries),
        "import_floor_mb": _import_floor("service.daemon") if daemon else None,
        "entry_floor_mb": _import_floor("service.cli") if daemon else None,
        "status": {o.job: o.status for o in report.outcomes},
        "errors": {o.job: o.error for o in report.outcomes if o.error},
        "scored": scored.get("scored"),
        "score_explain_seconds": scored.get("explain_seconds"),
        "spotify_calls": dict(wiring.spotify.calls),
    }


def _time_queries(engine: Any) -> dict[str, list[float]]:
    """Seconds and count per SQL statement the cycle runs (for "which queries dominate")."""
    from sqlalchemy import event

    spent: dict[str, list[float]] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = conn.info["bench_started"].pop()
        entry = spent.setdefault(" ".join(statement.split())[:160], [0.0, 0])
        entry[0] += time.perf_counter() - started
        entry[1] += 1

    return spent


def _top(spent: dict[str, list[float]], n: int = 6) -> list[dict[str, Any]]:
    ranked = sorted(spent.items(), key=lambda kv: kv[1][0], reverse=True)[:n]
    return [{"sql": sql, "seconds": round(t, 3), "count": int(c)} for sql, (t, c) in ranked]


def _import_floor(module: str) -> float:
    """RSS in MiB of a fresh interpreter that only imported ``module``."""
    code = f"import {module}; from service import memory; print(memory.rss_mb())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    print(json.dumps(run(spec)))


if __name__ == "__main__":
    main()
