"""What starting the command line costs: whole-process CPU time and peak RSS.

    python -m bench --only startup

Measured against ``python -c pass`` (the interpreter alone) in paired runs:
baseline, command, baseline, command, ... so both see the same machine load;
each figure is the median.  CPU time is the child's user + system time and
peak RSS its ``ru_maxrss``, both from ``wait4``.  Children are started by a
small launcher process (``python -S``), not by the benchmark itself: on
Linux ``ru_maxrss`` survives fork and exec, so a direct child of the
benchmark would start at the benchmark's own size.

Also measured once each, as wall time until the command gives up: ``bachbot
status`` against a PostgreSQL database that does not exist (a permanent
refusal: at once) and against a port where nothing listens (an outage: the
one-shot retry schedule).  Their baseline is a ``bachbot status`` that works.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.report import Row

SECTION = "startup"
HELP_TARGET_CPU_S = 0.3
HELP_TARGET_RSS_MB = 80.0
MISSING_DB_TARGET_S = 3.0
CLOSED_PORT_TARGET_S = 15.0
REPEATS = 5
QUICK_REPEATS = 2
EAGER_IMPORTS = "import jobs.model_report, jobs.sync, jobs.train, service.daemon, service.demo"
"""What every command imported at start before the imports were made lazy."""
Progress = Callable[[str], None]

LAUNCHER = """
import json, os, sys, time
started = time.monotonic()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({
    "code": os.waitstatus_to_exitcode(status),
    "cpu_s": usage.ru_utime + usage.ru_stime,
    "rss_mb": usage.ru_maxrss / 1024,
    "wall_s": time.monotonic() - started,
}))
"""


def bachbot_command() -> list[str]:
    """The installed ``bachbot`` script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("bachbot")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())"]


def measure(argv: Sequence[str], *, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """One run of ``argv`` through the launcher: exit code, CPU s, peak RSS MB, wall s."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, *argv],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _clean_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACHBOT_", "SPOTIPY_"))}
    return env | {"BACHBOT_DATA_DIR": str(data_dir)}


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_startup(
    folder: Path, *, quick: bool, progress: Progress, pg_admin_url: str | None
) -> list[Row]:
    """The startup rows (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    repeats = QUICK_REPEATS if quick else REPEATS
    bachbot = bachbot_command()
    baseline = [sys.executable, "-c", "pass"]
    runs: dict[str, list[dict[str, Any]]] = {"base": [], "help": [], "status": [], "eager": []}
    for i in range(repeats):
        progress(f"startup: round {i + 1} of {repeats}")
        status_dir = folder / f"status-{i}"  # empty every time: a fresh clone's first status
        for name, argv, data_dir in (
            ("base", baseline, folder / "unused"),
            ("help", [*bachbot, "--help"], folder / "unused"),
            ("base", baseline, folder / "unused"),
            ("status", [*bachbot, "status"], status_dir),
            ("base", baseline, folder / "unused"),
            ("eager", [sys.executable, "-c", EAGER_IMPORTS], folder / "unused"),
        ):
            run = measure(argv, env=_clean_env(data_dir), cwd=folder)
            if run["code"] != 0:
                raise RuntimeError(f"{' '.join(argv)} exited {run['code']} in the benchmark")
            runs[name].append(run)
        shutil.rmtree(status_dir, ignore_errors=True)
    base_cpu, base_rss = _median(runs["base"], "cpu_s"), _median(runs["base"], "rss_mb")
    note = f"median of {repeats} runs, each paired with `python -c pass`"
    rows = [
        Row(SECTION, "`bachbot --help`: CPU time", _median(runs["help"], "cpu_s"), "s",
            target=HELP_TARGET_CPU_S, compare="<", baseline=base_cpu,
            baseline_name="python -c pass", note=f"user + system; {note}",
            details={"runs": runs["help"], "baseline_runs": runs["base"]}),
        Row(SECTION, "`bachbot --help`: peak RSS", _median(runs["help"], "rss_mb"), "MB",
            target=HELP_TARGET_RSS_MB, compare="<", baseline=base_rss,
            baseline_name="python -c pass", note=note),
        Row(SECTION, "`bachbot status`, empty SQLite data dir: CPU time",
            _median(runs["status"], "cpu_s"), "s", baseline=base_cpu,
            baseline_name="python -c pass",
            note=f"creates and migrates the database; {note}",
            details={"runs": runs["status"]}),
        Row(SECTION, "`bachbot status`, empty SQLite data dir: peak RSS",
            _median(runs["status"], "rss_mb"), "MB", baseline=base_rss,
            baseline_name="python -c pass", note=note),
        Row(SECTION, "eager imports (every command, before): CPU time",
            _median(runs["eager"], "cpu_s"), "s", baseline=base_cpu,
            baseline_name="python -c pass",
            note=f"`python -c \"{EAGER_IMPORTS}\"`: what each command loaded at start "
            "before the imports were made lazy; " + note),
        Row(SECTION, "eager imports (every command, before): peak RSS",
            _median(runs["eager"], "rss_mb"), "MB", baseline=base_rss,
            baseline_name="python -c pass", note=note),
    ]  # fmt: skip
    rows += _failing_starts(folder, bachbot, runs["status"], progress, pg_admin_url)
    return rows


def _failing_starts(
    folder: Path,
    bachbot: list[str],
    working: list[dict[str, Any]],
    progress: Progress,
    pg_admin_url: str | None,
) -> list[Row]:
    """Wall time until ``bachbot status`` gives up on a database it cannot use."""
    cases: list[tuple[str, str, float]] = [
        ("closed port", f"postgresql://bot@127.0.0.1:{_closed_port()}/bachbot",
         CLOSED_PORT_TARGET_S),
    ]  # fmt: skip
    if pg_admin_url:
        missing = pg_admin_url.rsplit("/", 1)[0] + "/bachbot_bench_no_such_database"
        cases.insert(0, ("missing database", missing, MISSING_DB_TARGET_S))
    rows = []
    works = _median(working, "wall_s")
    for name, url, target in cases:
        progress(f"startup: status with a {name}")
        env = _clean_env(folder / "unused") | {"BACHBOT_DATABASE_URL": url}
        run = measure([*bachbot, "status"], env=env, cwd=folder)
        if run["code"] == 0:
            raise RuntimeError(f"bachbot status succeeded against a {name} ({url})")
        rows.append(Row(
            SECTION, f"`bachbot status`, PostgreSQL {name}: time to fail", run["wall_s"], "s",
            target=target, compare="<", baseline=works,
            baseline_name="a status that works",
            note=f"exit code {run['code']}; wall time, one run",
        ))  # fmt: skip
    if not pg_admin_url:
        rows.insert(0, Row(SECTION, "`bachbot status`, PostgreSQL missing database: time to fail",
                           None, "s", target=MISSING_DB_TARGET_S, compare="<",
                           note="not measured: no PostgreSQL in this run (--backend sqlite, "
                           "or the server is not reachable)"))  # fmt: skip
    return rows
