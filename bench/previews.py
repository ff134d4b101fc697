"""What analysing Deezer previews costs: ``python -m bench --only previews``.

Each figure comes from a process of its own (:mod:`bench.previews_child`),
started through :func:`bench.startup.measure` so its CPU time and peak RSS are
the child's alone (from ``wait4``); the local Deezer runs in this process and
serves 30-second MP3 previews of generated chords from its cache, so the
child's figures are bachbot's side only: ISRC lookup, download into memory,
decode and analysis.

Rows:

* 500 new tracks described by the provider (CPU s and peak RSS of the whole
  process, its imports and one warm-up analysis included), against
  downloading the same previews without analysing them;
* one 30-second preview analysed in a warm process (median of 20), against
  decoding it alone;
* the first analysis in a process: with an empty numba cache (a fresh install:
  numba compiles librosa's kernels) and with the cache a previous process left
  in the data dir (every later cycle of the daemon), against a warm call.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.previews_world import bench_track
from bench.report import Row
from bench.startup import measure
from service.deezer_sim import DeezerSim

SECTION = "previews"
TRACKS = 500
QUICK_TRACKS = 20
CPU_TARGET_S = 60.0
RSS_TARGET_MB = 400.0
WARM_TARGET_S = 0.2
Progress = Callable[[str], None]


def _child(
    mode: str, base: str, n: int, data_dir: Path, folder: Path, *, own_cache: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run one measured child; ``own_cache``: numba's cache in ``data_dir`` (as the daemon
    keeps it), else wherever this process's environment puts it (a quick run reuses it)."""
    out = folder / f"{mode}-{len(list(folder.glob('*.json')))}.json"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR" or not own_cache}
    usage = measure(
        [sys.executable, "-m", "bench.previews_child", mode, base, str(n), str(data_dir), str(out)],
        env=env,
        cwd=Path.cwd(),
    )
    if usage["code"] != 0:
        raise RuntimeError(f"bench.previews_child {mode} exited with {usage['code']}")
    figures: dict[str, Any] = json.loads(out.read_text())
    return usage, figures


def run_previews(folder: Path, *, quick: bool, progress: Progress) -> list[Row]:
    n = QUICK_TRACKS if quick else TRACKS
    folder.mkdir(parents=True, exist_ok=True)
    tracks = [bench_track(k).on_deezer() for k in range(n)]
    data_dir = folder / "data"
    own = not quick  # a quick run checks the harness: numba's compile is not its business
    with DeezerSim(tracks, quota=10**9) as deezer:
        progress("encoding the distinct preview clips once ...")
        for track in tracks[:96]:
            deezer.preview_bytes(track)
        progress("first analysis with an empty numba cache (a fresh install) ...")
        _, fresh = _child("first", deezer.root, 1, data_dir, folder, own_cache=own)
        progress("first analysis with the cache in the data dir ...")
        _, cached = _child("first", deezer.root, 1, data_dir, folder, own_cache=own)
        progress(f"describing {n} tracks' previews ...")
        usage, run = _child("describe", deezer.root, n, data_dir, folder, own_cache=own)
    per_track = f"{run['describe_cpu_s'] / max(n, 1) * 1000:.0f} ms CPU a track"
    held = not quick  # targets are for 500 full previews, not a quick run's handful
    return [
        Row(
            SECTION, f"describe {n} new tracks' previews: CPU (process)", usage["cpu_s"], "s",
            target=CPU_TARGET_S if held else None, compare="<",
            baseline=run["download_only_cpu_s"], baseline_name="download only",
            note=f"whole process: imports, warm-up, {run['described']} described "
            f"({per_track} in the loop, {run['describe_s']:.1f} s wall)",
            details={"usage": usage, "figures": run},
        ),
        Row(
            SECTION, f"describe {n} new tracks' previews: peak RSS", usage["rss_mb"], "MB",
            target=RSS_TARGET_MB if held else None, compare="<",
            note="the whole process (librosa, numba, numpy)",
        ),
        Row(
            SECTION, "one 30 s preview analysed, warm (median of 20)", run["analysis_median_s"],
            "s", target=WARM_TARGET_S if held else None, compare="<", baseline=run["decode_s"],
            baseline_name="decode only",
            note=f"wall time; median CPU {run['analysis_median_cpu_s']:.3f} s, "
            f"slowest of the 20 {run['analysis_max_s']:.3f} s",
        ),
        Row(
            SECTION, "first analysis in a process, empty numba cache (fresh install)",
            fresh["first_s"], "s", baseline=fresh["warm_s"], baseline_name="warm call",
            note=f"{fresh['first_cpu_s']:.1f} s CPU: librosa import and numba compile, once "
            "per install" + ("" if own else " (a quick run reuses the caller's numba cache)"),
        ),
        Row(
            SECTION, "first analysis in a process, numba cache in the data dir",
            cached["first_s"], "s", baseline=cached["warm_s"], baseline_name="warm call",
            note="every later process (each `bachbot run` start, each one-shot command)",
        ),
    ]  # fmt: skip
