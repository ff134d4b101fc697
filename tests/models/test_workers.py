"""Training's worker processes do not outlive a ``kill -9`` of the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench.processes import MARK_VARIABLE, kill_all, marked_processes, new_mark, wait_until_gone

ROOT = Path(__file__).resolve().parents[2]
TRAINER = textwrap.dedent(
    """
    import os, sys, time
    from sklearn.utils.parallel import Parallel, delayed
    from models.workers import worker_backend

    pids = Parallel(n_jobs=2, backend=worker_backend())(delayed(os.getpid)() for _ in range(8))
    print(len(set(pids) - {os.getpid()}), flush=True)
    time.sleep(120)  # the workers stay warm, as loky keeps them between trainings
    """
)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds processes through /proc")
@pytest.mark.timeout(120)
def test_workers_die_with_a_parent_killed_by_sigkill() -> None:
    mark = new_mark("workers")
    env = {**os.environ, MARK_VARIABLE: mark, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen(
        [sys.executable, "-c", TRAINER], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        workers = int(parent.stdout.readline())
        family = marked_processes(mark)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        left = wait_until_gone(mark, within_s=30)
    finally:
        kill_all(mark)
    assert workers >= 1, "the work ran in the parent: nothing here would test the workers"
    assert len(family) >= 1 + workers, family  # the parent, its workers, the resource tracker
    assert left == [], f"processes outlived their parent: {left}"
