"""One measured process of the ``previews`` section (see :mod:`bench.previews`).

    python -m bench.previews_child first|describe DEEZER_BASE N DATA_DIR OUT.json

``first``: the first analysis in a fresh process (librosa's import and numba's
compile or cache load), and one warm analysis after it.  ``describe``: one
warm-up analysis, then the preview provider over N tracks (ISRC lookup,
download, analysis) in chunks of ten as the features job asks, then 20
analyses of in-memory previews and 20 decodes alone.  Figures go to OUT.json;
the parent reads the process's whole CPU time and peak RSS from ``wait4``.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.previews_world import BACH, bench_track
from models.features.audio import decode, describe_audio, prepare_numba_cache
from models.features.preview_audio import PreviewAudioProvider, deezer_client
from service.settings import Settings


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _preview(client: httpx.Client, base: str, n: int) -> bytes:
    track = client.get(f"{base}track/isrc:{bench_track(n).isrc}").json()
    return client.get(track["preview"]).content


def main(argv: list[str]) -> int:
    mode, base, count, data_dir, out = argv
    n = int(count)
    figures: dict[str, Any] = {}
    prepare_numba_cache(Path(data_dir) / "cache" / "numba")
    with httpx.Client(timeout=30) as client:
        if mode == "first":
            data = _preview(client, base, 0)
            wall, cpu = time.perf_counter(), _cpu()
            describe_audio(data)
            figures["first_s"] = time.perf_counter() - wall
            figures["first_cpu_s"] = _cpu() - cpu
            wall = time.perf_counter()
            describe_audio(data)
            figures["warm_s"] = time.perf_counter() - wall
        else:
            settings = Settings(
                _env_file=None,
                data_dir=Path(data_dir),
                deezer_base=base,
                preview_audio_calls_per_cycle=10 * n + 10,
                composer_artist_ids=[BACH],
            )
            provider = PreviewAudioProvider(deezer_client(client, settings), composer_ids=[BACH])
            describe_audio(_preview(client, base, 0))  # warm: the first call is its own row
            tracks = [bench_track(k).for_provider() for k in range(n)]
            wall, cpu = time.perf_counter(), _cpu()
            described = 0
            for start in range(0, n, 10):
                result = provider.fetch(tracks[start : start + 10])
                described += sum(1 for v in result.values() if isinstance(v, dict))
            figures["describe_s"] = time.perf_counter() - wall
            figures["describe_cpu_s"] = _cpu() - cpu
            figures["described"] = described
            clips = [_preview(client, base, k) for k in range(20)]
            wall = time.perf_counter()
            for clip in clips:
                decode(clip)
            figures["decode_s"] = (time.perf_counter() - wall) / len(clips)
            times, cpu_times = [], []
            for clip in clips:
                started, cpu = time.perf_counter(), _cpu()
                describe_audio(clip)
                times.append(time.perf_counter() - started)
                cpu_times.append(_cpu() - cpu)
            figures["analysis_median_s"] = statistics.median(times)
            figures["analysis_median_cpu_s"] = statistics.median(cpu_times)
            figures["analysis_max_s"] = max(times)
            wall, cpu = time.perf_counter(), _cpu()
            for k in range(n):
                _preview(client, base, k)
            figures["download_only_cpu_s"] = _cpu() - cpu
            figures["download_only_s"] = time.perf_counter() - wall
    Path(out).write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
