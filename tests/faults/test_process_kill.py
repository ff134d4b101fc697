"""``kill -9`` of a real ``bachbot run`` inside each step of the cycle (bench/kill_trials.py).

One trial per aim - sync, features, train, train while it saves and promotes,
score, publish - on this run's back-end, each followed by a restart, a whole
cycle and SIGTERM.  The harness's checks (lost, duplicated, orphaned, stuck,
integrity, lock) must find nothing, and every kill must have landed inside
the job it aimed at; ``python -m bench.kill_trials --trials 50`` is the same
with more trials (its figures are in bench/results.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.kill_trials import AIMS, describe, run_kill_trials
from service.settings import Settings
from tests.conftest import BACKEND

from .conftest import FaultTable

pytestmark = [pytest.mark.slow, pytest.mark.faults]


@pytest.mark.timeout(900)
def test_kill_9_inside_every_step_loses_duplicates_orphans_and_leaves_nothing(
    settings: Settings, tmp_path: Path, fault_table: FaultTable
) -> None:
    lines: list[str] = []
    report = run_kill_trials(
        database_url=settings.resolved_database_url,
        backend=BACKEND,
        folder=tmp_path,
        trials=len(AIMS),
        seed=1,
        progress=lines.append,
    )
    figures = describe(report)
    missed = {aim: n for aim, n in figures["per_step"].items() if n["landed"] < n["kills"]}
    lost = figures["violations"]["lost"]
    fault_table.add(
        f"kill -9 inside each step ({report.trials - len(missed)}/{report.trials} inside)",
        tries=report.trials,
        survived=report.survived == report.trials and not missed,
        data_lost=f"{lost} rating(s)" if lost else "none",
    )
    assert report.survived == report.trials, report.render()
    assert sum(figures["violations"].values()) == 0, report.render()
    assert not missed, "kills that did not land inside their job:\n" + report.render()
